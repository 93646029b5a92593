import Foundation
import Testing

@testable import ChatGateway

@Suite("Authentication and identity rules on /v1", .hangLimit)
struct AuthEndpointTests {
    static var body: [String: Any] { ["system_id": "drillquiz", "user_id": "u1", "message": "hi"] }

    @Test func noCredentialsIs401() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(.POST, "/v1/chat", json: Self.body)
            #expect(reply.status == 401)
            #expect(reply.detail == "API key or Bearer token required")
        }
    }

    @Test func wrongKeyIs401() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(
                .GET, "/v1/conversations?system_id=drillquiz&user_id=u1", headers: [("X-API-Key", "nope")])
            #expect(reply.status == 401)
        }
    }

    @Test func emptyKeyListRefusesEveryKey() async throws {
        try await GatewayHarness.with(adjust: { $0.apiKeys = [] }) { gateway in
            for key in ["", "anything", GatewayHarness.apiKey] {
                let reply = try await gateway.call(.POST, "/v1/chat", headers: [("X-API-Key", key)], json: Self.body)
                #expect(reply.status == 401)
            }
        }
    }

    @Test func keyNeedsBothIDs() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: ["system_id": "drillquiz", "message": "hi"])
            #expect(reply.status == 400)
            #expect(reply.detail == "system_id and user_id required in body or query when using API key")
            let list = try await gateway.call(.GET, "/v1/conversations?user_id=u1", headers: GatewayHarness.keyHeader)
            #expect(list.status == 400)
        }
    }

    @Test func tokenActsForItsOwnerOnly() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(system: "drillquiz", user: "u1")
            let bearer = [("Authorization", "Bearer \(token)")]
            let own = try await gateway.call(.POST, "/v1/chat", headers: bearer, json: ["message": "hi"])
            #expect(own.status == 200)
            let sameIDs = try await gateway.call(.POST, "/v1/chat", headers: bearer, json: Self.body)
            #expect(sameIDs.status == 200)
            let other = try await gateway.call(
                .POST, "/v1/chat", headers: bearer, json: ["system_id": "drillquiz", "user_id": "u2", "message": "hi"])
            #expect(other.status == 403)
            #expect(other.detail == "system_id/user_id must match token")
            let otherSystem = try await gateway.call(.GET, "/v1/conversations?system_id=cointutor", headers: bearer)
            #expect(otherSystem.status == 403)
            let viaQuery = try await gateway.call(.GET, "/v1/conversations?token=\(token)")
            #expect(viaQuery.status == 200)
        }
    }

    @Test func bearerWinsOverQueryToken() async throws {
        try await GatewayHarness.with { gateway in
            let good = try await gateway.token()
            let reply = try await gateway.call(
                .GET, "/v1/conversations?token=garbage", headers: [("Authorization", "Bearer \(good)")])
            #expect(reply.status == 200)
            let reversed = try await gateway.call(
                .GET, "/v1/conversations?token=\(good)", headers: [("Authorization", "Bearer garbage")])
            #expect(reversed.status == 401)
        }
    }

    @Test func badTokensSayWhy() async throws {
        try await GatewayHarness.with { gateway in
            let forged = try await ChatTokenService(secret: "another-secret").issue(systemID: "drillquiz", userID: "u1")
            let expired = try await ChatTokenService(
                secret: GatewayHarness.jwtSecret, now: { Date().addingTimeInterval(-200_000) }
            )
            .issue(systemID: "drillquiz", userID: "u1")
            let cases: [(String, String)] = [
                (forged, "Invalid token signature"),
                (expired, "Token expired"),
                (
                    TestTokens.unsigned([
                        "system_id": "drillquiz", "user_id": "u1", "exp": Date().timeIntervalSince1970 + 600,
                    ]), "Unsupported token algorithm \"none\": only HS256 is accepted"
                ),
            ]
            for (token, detail) in cases {
                let reply = try await gateway.call(
                    .GET, "/v1/conversations", headers: [("Authorization", "Bearer \(token)")])
                #expect(reply.status == 401)
                #expect(reply.detail == detail)
            }
        }
    }

    /// `CHAT_GATEWAY_JWT_AUDIENCE`, `_MAX_LIFETIME` and `_PREVIOUS_SECRET` as a caller meets them: the API and the chat
    /// page both refuse a wrong audience, an over-long token and one of a retired secret, and accept the previous secret's.
    @Test func theConfiguredTokenPolicyAppliesToTheAPIAndThePage() async throws {
        try await GatewayHarness.with(adjust: {
            $0.jwtPolicy = ChatTokenPolicy(audience: "chat-gateway", maxLifetime: ChatTokenService.defaultLifetime)
            $0.jwtPreviousSecret = "previous-secret"
        }) { gateway in
            func mint(
                secret: String = GatewayHarness.jwtSecret, audience: String? = "chat-gateway",
                lifetime: TimeInterval = 600
            ) async throws -> String {
                try await ChatTokenService(secret: secret, policy: ChatTokenPolicy(audience: audience))
                    .issue(systemID: "drillquiz", userID: "u1", lifetime: lifetime)
            }
            let cases: [(token: String, status: Int, detail: String?)] = [
                (try await mint(audience: "another-service"), 401, "Invalid token audience"),
                (try await mint(audience: nil), 401, "Invalid token audience"),
                (
                    try await mint(lifetime: 2 * ChatTokenService.defaultLifetime), 401,
                    "Token lifetime exceeds the maximum of 86400 seconds"
                ),
                (try await mint(secret: "retired-secret"), 401, "Invalid token signature"),
                (try await mint(secret: "previous-secret"), 200, nil),
                (try await mint(), 200, nil),
            ]
            for (index, (token, status, detail)) in cases.enumerated() {
                let reply = try await gateway.call(
                    .GET, "/v1/conversations", headers: [("Authorization", "Bearer \(token)")])
                #expect(reply.status == status, "case \(index)")
                #expect(reply.detail == detail, "case \(index)")
                #expect(try await gateway.call(.GET, "/chat?token=\(token)").status == status, "case \(index)")
            }
            // The gateway's own tokens carry the audience and fit the maximum lifetime.
            let issued = try await gateway.call(
                .GET, "/v1/chat-token?system_id=drillquiz&user_id=u1", headers: GatewayHarness.keyHeader)
            let own = try #require(issued.object["token"] as? String)
            #expect(
                try await gateway.call(.GET, "/v1/conversations", headers: [("Authorization", "Bearer \(own)")]).status
                    == 200)
        }
    }

    @Test(arguments: [
        ("Drillquiz", "u1"), ("drill_quiz", "u1"), ("-drillquiz", "u1"), ("drillquiz", ""),
        ("drillquiz", "bad\u{0007}id"),
        ("drillquiz", String(repeating: "x", count: 246)),
    ])
    func malformedIdentitiesAre422(system: String, user: String) async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": system, "user_id": user, "message": "hi"])
            // An empty user id counts as missing (400); every other malformed id is a 422 naming the rule.
            #expect(reply.status == (user.isEmpty ? 400 : 422))
            #expect(try await StoredMessage.query(on: gateway.app.db).count() == 0)
        }
    }

    @Test func longestUserIDThatFitsIsAccepted() async throws {
        try await GatewayHarness.with { gateway in
            let user = String(repeating: "x", count: 255 - "drillquiz_".count)
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": user, "message": "hi"])
            #expect(reply.status == 200)
        }
    }

    @Test func allowedSystemIDsAreEnforced() async throws {
        try await GatewayHarness.with(adjust: { $0.allowedSystemIDs = ["cointutor"] }) { gateway in
            let reply = try await gateway.call(.POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body)
            #expect(reply.status == 403)
            #expect(reply.detail == "system_id not allowed")
        }
    }
}
