import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// No secret (an API key of any kind, a chat JWT, a JWT secret, a Dify app key, a visitor id, a message text) appears in a log line or an
/// error body. Every line from start-up on is captured at debug level while the gateway goes through successes and
/// the failures most likely to repeat what they were given: wrong and misused keys, bad tokens, a Dify that refuses
/// its app key, a Dify that is down, its breaker opening, the history sync reporting those failures.
@Suite("Secrets in logs and error bodies", .hangLimit)
struct SecretLoggingTests {
    static let scopedKey = "scoped-key-5f2a9c"
    static let browserKey = "browser-key-8d41e7"
    static let wrongKey = "wrong-key-c03b66"
    static let previousJWTSecret = "previous-jwt-secret-71aa"
    static let forgingSecret = "forging-secret-3b7f"
    /// cointutor's own Dify app key, which the fake Dify refuses (401).
    static let refusedDifyKey = "app-refused-key-2e9d"
    /// The app key of a Dify that is down (nobody listens on the discard port).
    static let offlineDifyKey = "app-offline-key-94c1"
    /// What users type stays out of the logs too, even at debug level (the SQL log would print it).
    static let messageText = "private-message-text-6b0d"

    @Test(arguments: LogFormat.allCases)
    func noSecretReachesALogLineOrAnErrorBody(format: LogFormat) async throws {
        let logs = LogCapture()
        try await GatewayHarness.with(
            adjust: { settings in
                settings.apiKeys = [
                    APIKeyEntry(key: GatewayHarness.apiKey),
                    APIKeyEntry(key: Self.scopedKey, scope: .systems(["drillquiz"])),
                ]
                settings.browserKeys = [APIKeyEntry(key: Self.browserKey)]
                settings.jwtPreviousSecret = Self.previousJWTSecret
                settings.difySystemOverrides = [
                    "COINTUTOR": .init(baseURL: nil, apiKey: Self.refusedDifyKey),
                    "OFFLINE": .init(baseURL: URL(string: "http://127.0.0.1:9"), apiKey: Self.offlineDifyKey),
                ]
                settings.difyCircuitFailures = 1
            }, logs: logs, logFormat: format
        ) { gateway in
            var replies: [GatewayHarness.Reply] = []
            func call(
                _ method: HTTPMethod, _ path: String, _ headers: [(String, String)] = [], json: [String: Any]? = nil
            ) async throws -> Int {
                let reply = try await gateway.call(method, path, headers: headers, json: json)
                replies.append(reply)
                return reply.status
            }
            func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }
            func chat(_ system: String, _ user: String, stream: Bool = false) -> [String: Any] {
                ["system_id": system, "user_id": user, "message": Self.messageText, "stream": stream]
            }
            let key = GatewayHarness.keyHeader

            // given: successes, with every kind of credential
            #expect(try await call(.POST, "/v1/chat", key, json: chat("drillquiz", "u1")) == 200)
            #expect(try await call(.POST, "/v1/chat", key, json: chat("drillquiz", "u1", stream: true)) == 200)
            let issued = try await gateway.call(.GET, "/v1/chat-token?system_id=drillquiz&user_id=u1", headers: key)
            let token = try #require(issued.object["token"] as? String)
            let visitor = try await gateway.call(
                .GET, "/v1/chat-token?system_id=drillquiz&user_id=anonymous", headers: [("X-API-Key", Self.browserKey)])
            let visitorToken = try #require(visitor.object["token"] as? String)
            // A visitor id is a bearer credential: whoever holds it can renew that visitor's token.
            let visitorID = try #require(visitor.object["user_id"] as? String)
            let oldToken = try await ChatTokenService(secret: Self.previousJWTSecret).issue(
                systemID: "drillquiz", userID: "u1")
            for good in [token, visitorToken, oldToken] {
                #expect(try await call(.GET, "/v1/conversations", bearer(good)) == 200)
                #expect(try await call(.GET, "/v1/conversations?token=\(good)") == 200)
                #expect(try await call(.GET, "/chat?token=\(good)") == 200)
            }

            // when: refusals of bad tokens and of wrong or misused keys
            let forged = try await ChatTokenService(secret: Self.forgingSecret).issue(
                systemID: "drillquiz", userID: "u1")
            let expired = try await ChatTokenService(
                secret: GatewayHarness.jwtSecret, now: { Date().addingTimeInterval(-200_000) }
            )
            .issue(systemID: "drillquiz", userID: "u1")
            let unsigned = TestTokens.unsigned([
                "system_id": "drillquiz", "user_id": "u1", "exp": Date().timeIntervalSince1970 + 600,
            ])
            for bad in [forged, expired, unsigned] {
                #expect(try await call(.GET, "/v1/conversations", bearer(bad)) == 401)
                #expect(try await call(.GET, "/v1/conversations?token=\(bad)") == 401)
                #expect(try await call(.GET, "/chat?token=\(bad)") == 401)
            }
            #expect(try await call(.GET, "/v1/cache/conversations", bearer(token)) == 401)
            #expect(try await call(.POST, "/v1/chat", bearer(token), json: chat("drillquiz", "u2")) == 403)
            #expect(
                try await call(.GET, "/v1/conversations?system_id=drillquiz&user_id=u1", [("X-API-Key", Self.wrongKey)])
                    == 401)
            #expect(
                try await call(
                    .GET, "/v1/conversations?system_id=cointutor&user_id=carol", [("X-API-Key", Self.scopedKey)]) == 403
            )
            #expect(try await call(.POST, "/v1/sync", [("X-API-Key", Self.scopedKey)]) == 403)
            #expect(
                try await call(
                    .POST, "/v1/chat", [("X-API-Key", Self.browserKey)], json: chat("drillquiz", "anonymous")) == 403)
            #expect(
                try await call(
                    .GET, "/v1/chat-token?system_id=drillquiz&user_id=12345", [("X-API-Key", Self.browserKey)]) == 403)

            // and: Dify refuses cointutor's app key; the offline Dify is down, then its breaker is open
            #expect(try await call(.POST, "/v1/chat", key, json: chat("cointutor", "carol")) == 502)
            #expect(try await call(.POST, "/v1/chat", key, json: chat("cointutor", "carol", stream: true)) == 502)
            #expect(try await call(.GET, "/v1/conversations?system_id=cointutor&user_id=carol", key) == 502)
            #expect(try await call(.POST, "/v1/chat", key, json: chat("offline", "olive")) == 502)
            #expect(try await call(.POST, "/v1/chat", key, json: chat("offline", "olive", stream: true)) == 503)
            let sync = try await gateway.call(.POST, "/v1/sync", headers: key)
            #expect(sync.status == 200)
            #expect((sync.object["errors"] as? [Any])?.count == 2, "\(sync.text)")

            // and: the history page, signed in with the key, with a wrong key, and with a scoped key in the seed's link
            replies.append(try await HistoryPageEndpointTests.signIn(gateway))
            replies.append(try await HistoryPageEndpointTests.signIn(gateway, key: Self.wrongKey))
            replies.append(try await HistoryPageEndpointTests.call(gateway, .GET, "/cache?api_key=\(Self.scopedKey)"))
            #expect(replies.suffix(3).map(\.status) == [303, 401, 403])

            // then
            let tokens = [token, visitorToken, oldToken, forged, expired, unsigned]
            let signatures = tokens.compactMap {
                $0.split(separator: ".", omittingEmptySubsequences: false).dropFirst(2).first
            }
            .filter { !$0.isEmpty }.map(String.init)
            let difyKeys = [GatewayHarness.difyKey, Self.refusedDifyKey, Self.offlineDifyKey]
            let secrets =
                [
                    GatewayHarness.apiKey, Self.scopedKey, Self.browserKey, Self.wrongKey,
                    GatewayHarness.jwtSecret, Self.previousJWTSecret, Self.forgingSecret,
                ] + difyKeys + tokens + signatures + [visitorID, Self.messageText]

            let lines = logs.lines
            // The capture saw start-up, requests, Dify's failures, the breaker and the sync, not an empty log.
            let paths =
                format == .json
                ? [#""path":"/v1/chat-token""#, #""path":"/chat""#] : ["path=/v1/chat-token", "path=/chat"]
            for expected in [
                "CHAT_GATEWAY_API_KEY: 2 keys", "CHAT_GATEWAY_BROWSER_KEY", "chat failed upstream",
                "Dify circuit opened",
                "history sync finished",
            ] + paths {
                #expect(lines.contains { $0.contains(expected) }, "no log line contains \(expected)")
            }
            if format == .json {
                for line in lines {
                    let object = try #require(
                        try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
                    #expect(object["timestamp"] is String && object["level"] is String && object["message"] is String)
                }
                #expect(lines.contains { $0.contains(#""request_id":""#) })
            }
            for secret in secrets {
                let leaks = lines.filter { $0.contains(secret) }
                #expect(leaks.isEmpty, "a log line holds a secret: \(leaks)")
            }
            let errors = replies.filter { $0.status >= 400 }
            #expect(errors.count == 23)
            for reply in errors + [sync] {
                let headers = reply.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                for secret in secrets {
                    #expect(
                        !reply.text.contains(secret) && !headers.contains(secret),
                        "a \(reply.status) answer holds a secret: \(reply.text)")
                }
            }
        }
    }
}
