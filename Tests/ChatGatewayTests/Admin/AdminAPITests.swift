import FakeDify
import Foundation
import Testing

@testable import ChatGateway

/// `/admin/v1`: systems and keys as data, in force without a restart, with every change in the audit log.
@Suite("Admin API", .hangLimit)
struct AdminAPITests {
    static let adminKey = "admin-key-0123456789abcdef"
    static let admin = [("X-Admin-Key", adminKey)]
    static let encryptionKey = String(repeating: "ab", count: 32)

    static func withAdmin<T>(
        encryption: Bool = true, now: @escaping @Sendable () -> Date = Date.init,
        _ adjust: @escaping (inout Settings) -> Void = { _ in }, _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        try await GatewayHarness.with(
            adjust: { settings in
                settings.adminKeys = [adminKey]
                if encryption { settings.encryptionKey = encryptionKey }
                adjust(&settings)
            }, dependencies: GatewayDependencies(now: now)
        ) { try await body($0) }
    }

    @Test func withoutAnAdminKeyConfiguredEveryAdminRouteIs403() async throws {
        try await GatewayHarness.with { gateway in
            for (method, path) in [
                ("GET", "/admin/v1/systems"), ("POST", "/admin/v1/keys"), ("GET", "/admin/v1/audit"),
            ] {
                let reply = try await gateway.call(.init(rawValue: method), path, headers: Self.admin, json: [:])
                #expect(reply.status == 403)
                #expect(reply.detail == "The admin API is disabled: set CHAT_GATEWAY_ADMIN_KEY")
            }
        }
    }

    @Test func clientKeysTokensAndWrongKeysNeverReachAdminRoutes() async throws {
        // A stopped clock: on a loaded machine the allowance must not refill between the tries.
        let stopped = Date()
        try await Self.withAdmin(now: { stopped }) { gateway in
            #expect(try await gateway.call(.GET, "/admin/v1/systems", headers: GatewayHarness.keyHeader).status == 403)
            let token = try await gateway.token()
            let bearer = [("Authorization", "Bearer \(token)")]
            #expect(try await gateway.call(.GET, "/admin/v1/systems", headers: bearer).status == 403)
            #expect(try await gateway.call(.GET, "/admin/v1/systems").status == 401)
            // An admin key is no client key either.
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: [("X-API-Key", Self.adminKey)],
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi"])
            #expect(chat.status == 401)
            for _ in 0..<10 {
                let wrong = try await gateway.call(.GET, "/admin/v1/systems", headers: [("X-Admin-Key", "wrong")])
                #expect(wrong.status == 401)
            }
            let limited = try await gateway.call(.GET, "/admin/v1/systems", headers: [("X-Admin-Key", "wrong")])
            #expect(limited.status == 429)
            #expect(Int(limited.headers.first(name: "Retry-After") ?? "") ?? 0 >= 1)
            // While the address is limited, the right key waits too: guessing cannot go on behind the 429s.
            #expect(try await gateway.call(.GET, "/admin/v1/systems", headers: Self.admin).status == 429)
            let failures = try await gateway.adminStore.audit(
                from: nil, to: nil, limit: 100, before: nil)
            #expect(failures.filter { $0.action == "admin.sign_in_failed" }.count == 10)
            #expect(!failures.contains { $0.actor.contains("wrong") || $0.detail.contains("wrong\"") })
        }
    }

    @Test func aSystemMadeThroughTheAPIServesChatsWithItsOwnDify() async throws {
        let own = try await FakeDifyServer.start(
            store: FakeDifyStore(options: FakeDifyOptions(apiKeys: ["app-own-9f2c"])))
        defer { Task { try? await own.shutdown() } }
        try await Self.withAdmin { gateway in
            let created = try await gateway.call(
                .POST, "/admin/v1/systems", headers: Self.admin,
                json: [
                    "system_id": "cointutor", "name": "CoinTutor", "dify_base_url": own.baseURL,
                    "dify_api_key": "app-own-9f2c", "allowed_origins": ["https://tutor.example.com"], "enabled": true,
                ])
            #expect(created.status == 201)
            // A 12-character key shows nothing; a longer one at most a quarter of it.
            #expect(created.object["dify_api_key_hint"] as? String == "…")
            #expect(created.object["source"] as? String == "admin")
            #expect(!created.text.contains("app-own-9f2c"))
            #expect(
                try await gateway.call(
                    .POST, "/admin/v1/systems", headers: Self.admin, json: ["system_id": "cointutor"]
                ).status == 409)

            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "cointutor", "user_id": "amy", "message": "hi"])
            #expect(chat.status == 200)
            // Its own origins decide who may fetch its chat tokens.
            let tokenPath = "/v1/chat-token?system_id=cointutor&user_id=amy"
            let fromTutor = try await gateway.call(
                .GET, tokenPath, headers: GatewayHarness.keyHeader + [("Origin", "https://tutor.example.com")])
            #expect(fromTutor.status == 200)
            #expect(fromTutor.headers.first(name: "Access-Control-Allow-Origin") == "https://tutor.example.com")
            let fromElsewhere = try await gateway.call(
                .GET, tokenPath, headers: GatewayHarness.keyHeader + [("Origin", "https://evil.example")])
            #expect(fromElsewhere.status == 403)
            let pageToken = try #require(fromTutor.object["token"] as? String)
            let page = try await gateway.call(.GET, "/chat?token=\(pageToken)")
            #expect(
                page.headers.first(name: "Content-Security-Policy")?.contains(
                    "frame-ancestors 'self' https://tutor.example.com") == true)
            #expect(await own.store.conversationIDs(user: "cointutor_amy").count == 1)
            #expect(await gateway.fake.store.conversationIDs(user: "cointutor_amy").isEmpty)

            let listed = try await gateway.call(.GET, "/admin/v1/systems", headers: Self.admin)
            #expect(listed.array.contains { $0["system_id"] as? String == "cointutor" })
            #expect(
                listed.array.contains { $0["system_id"] as? String == "*" && $0["source"] as? String == "environment" })
            #expect(!listed.text.contains("app-own-9f2c") && !listed.text.contains(GatewayHarness.difyKey))

            let check = try await gateway.call(.POST, "/admin/v1/systems/cointutor/check", headers: Self.admin)
            #expect(check.status == 200)
            #expect(check.object["ok"] as? Bool == true)
            // The shared DIFY_BASE_URL / DIFY_API_KEY app, listed as `*`, can be checked too.
            let shared = try await gateway.call(.POST, "/admin/v1/systems/%2A/check", headers: Self.admin)
            #expect(shared.object["ok"] as? Bool == true)
            #expect(try await gateway.call(.POST, "/admin/v1/systems/nope/check", headers: Self.admin).status == 404)

            let disabled = try await gateway.call(
                .PATCH, "/admin/v1/systems/cointutor", headers: Self.admin, json: ["enabled": false])
            #expect(disabled.object["enabled"] as? Bool == false)
            let refused = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "cointutor", "user_id": "amy", "message": "again"])
            #expect(refused.status == 403)
            #expect(refused.detail == "system_id not allowed")
            let token = try await gateway.call(
                .GET, "/v1/chat-token?system_id=cointutor&user_id=amy", headers: GatewayHarness.keyHeader)
            #expect(token.status == 403)

            #expect(try await gateway.call(.DELETE, "/admin/v1/systems/cointutor", headers: Self.admin).status == 204)
            #expect(try await gateway.call(.GET, "/admin/v1/systems/cointutor", headers: Self.admin).status == 404)
            // Its history stays.
            #expect(try await gateway.messages(system: "cointutor", user: "amy").count >= 2)
        }
    }

    @Test func aSystemsOwnRateLimitReplacesTheDefault() async throws {
        try await Self.withAdmin { gateway in
            let created = try await gateway.call(
                .POST, "/admin/v1/systems", headers: Self.admin,
                json: ["system_id": "strict", "rate_limit_per_user": "1/min", "max_streams_per_user": 1])
            #expect(created.object["rate_limit_per_user"] as? String == "1/min")
            func chat(_ system: String) async throws -> GatewayHarness.Reply {
                try await gateway.call(
                    .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                    json: ["system_id": system, "user_id": "eve", "message": "hi"])
            }
            #expect(try await chat("strict").status == 200)
            let limited = try await chat("strict")
            #expect(limited.status == 429)
            #expect(limited.headers.first(name: "Retry-After") != nil)
            #expect(try await chat("drillquiz").status == 200)  // other systems keep the default (none here)
            let bad = try await gateway.call(
                .PATCH, "/admin/v1/systems/strict", headers: Self.admin, json: ["rate_limit_per_user": "lots"])
            #expect(bad.status == 422)
        }
    }

    @Test func aDifyThatIsDownIsAFailedCheckNotAnError() async throws {
        try await Self.withAdmin { gateway in
            _ = try await gateway.call(
                .POST, "/admin/v1/systems", headers: Self.admin,
                json: ["system_id": "gone", "dify_base_url": "http://127.0.0.1:9", "dify_api_key": "app-x"])
            let check = try await gateway.call(.POST, "/admin/v1/systems/gone/check", headers: Self.admin)
            #expect(check.status == 200)
            #expect(check.object["ok"] as? Bool == false)
            #expect(check.object["status"] is NSNull)
            #expect(check.object["latency_ms"] is Int)
            let wrongKey = try await gateway.call(
                .POST, "/admin/v1/systems", headers: Self.admin,
                json: ["system_id": "badkey", "dify_base_url": gateway.fake.baseURL, "dify_api_key": "app-wrong"])
            #expect(wrongKey.status == 201)
            let refused = try await gateway.call(.POST, "/admin/v1/systems/badkey/check", headers: Self.admin)
            #expect(refused.object["ok"] as? Bool == false)
            #expect(refused.object["reason"] as? String == "http_4xx")
            #expect(check.object["reason"] as? String == "unreachable")
        }
    }

    @Test func aDifyKeyNeedsTheEncryptionKey() async throws {
        try await Self.withAdmin(encryption: false) { gateway in
            let refused = try await gateway.call(
                .POST, "/admin/v1/systems", headers: Self.admin, json: ["system_id": "quiz", "dify_api_key": "app-x"])
            #expect(refused.status == 409)
            #expect(refused.detail?.contains("CHAT_GATEWAY_ENCRYPTION_KEY") == true)
            let keyless = try await gateway.call(
                .POST, "/admin/v1/systems", headers: Self.admin, json: ["system_id": "quiz", "name": "Quiz"])
            #expect(keyless.status == 201)
        }
    }

    @Test func systemsFromTheEnvironmentAreReadOnly() async throws {
        try await Self.withAdmin({ settings in
            settings.difySystemOverrides["COIN_TUTOR"] = .init(
                baseURL: URL(string: "http://dify.invalid"), apiKey: "app-env-0123456789abcdefghij1234")
        }) { gateway in
            for (method, json) in [("PATCH", ["name": "x"]), ("DELETE", [:])] as [(String, [String: Any])] {
                let reply = try await gateway.call(
                    .init(rawValue: method), "/admin/v1/systems/coin-tutor", headers: Self.admin, json: json)
                #expect(reply.status == 409)
                #expect(reply.detail?.contains("environment") == true)
            }
            let created = try await gateway.call(
                .POST, "/admin/v1/systems", headers: Self.admin, json: ["system_id": "coin-tutor"])
            #expect(created.status == 409)
            let shown = try await gateway.call(.GET, "/admin/v1/systems/coin-tutor", headers: Self.admin)
            #expect(shown.object["source"] as? String == "environment")
            #expect(shown.object["dify_api_key_hint"] as? String == "app-…1234")
            #expect(SecretSealer.hint("app-0123456789ab") == "ap…ab")
            #expect(SecretSealer.hint("app-012345678") == "…")
        }
    }

    @Test func aKeySealedUnderAnotherEncryptionKeyMakesItsSystemAnswer503() async throws {
        try await Self.withAdmin { gateway in
            let stamp = Date()
            let otherSealer = SecretSealer(encryptionKey: String(repeating: "cd", count: 32))
            try await gateway.adminStore.save(
                AdminStore.SystemRow(
                    systemID: "sealed", name: "Sealed", difyBaseURL: gateway.fake.baseURL,
                    difyAPIKeySealed: try otherSealer.seal(GatewayHarness.difyKey), difyAPIKeyHint: "app-…-key",
                    allowedOrigins: "[]", enabled: true, createdAt: stamp, updatedAt: stamp),
                audit: AuditEntry(
                    id: UUID(), at: stamp, actor: "test", action: "system.created", target: "sealed", detail: ""))
            // The registry polls every second, but each try here is a chat, and a loaded full run on two cores has
            // been seen to stall a gateway for over 10 s: the limit catches a hang, it does not time the polling.
            try await gateway.waitFor(
                "the registry to read the system whose key it cannot open", within: .seconds(45)
            ) {
                try await gateway.call(
                    .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                    json: ["system_id": "sealed", "user_id": "u", "message": "hi"]
                ).status == 503
            }
            let listed = try await gateway.call(.GET, "/admin/v1/systems/sealed", headers: Self.admin)
            #expect(listed.object["dify_api_key_readable"] as? Bool == false)
            // Other systems are untouched.
            let other = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u", "message": "hi"])
            #expect(other.status == 200)
        }
    }

    @Test func noAdminSecretReachesALogLine() async throws {
        let logs = LogCapture()
        let wrongAdminKey = "wrong-admin-key-7c1d"
        let difyKey = "app-sealed-secret-55e0"
        try await GatewayHarness.with(
            adjust: { settings in
                settings.adminKeys = [Self.adminKey]
                settings.encryptionKey = Self.encryptionKey
            }, logs: logs
        ) { gateway in
            _ = try await gateway.call(.GET, "/admin/v1/systems", headers: [("X-Admin-Key", wrongAdminKey)])
            _ = try await gateway.call(
                .POST, "/admin/v1/systems", headers: Self.admin,
                json: ["system_id": "quiz", "dify_base_url": gateway.fake.baseURL, "dify_api_key": difyKey])
            _ = try await gateway.call(.POST, "/admin/v1/systems/quiz/check", headers: Self.admin)
            let created = try await gateway.call(
                .POST, "/admin/v1/keys", headers: Self.admin, json: ["name": "k", "systems": [], "kind": "server"])
            let dataKey = try #require(created.object["key"] as? String)
            _ = try await gateway.call(
                .POST, "/v1/chat", headers: [("X-API-Key", dataKey)],
                json: ["system_id": "quiz", "user_id": "u1", "message": "hi"])
            _ = try await gateway.call(.GET, "/admin/v1/audit", headers: Self.admin)
            let lines = logs.lines
            #expect(lines.count > 5)
            for secret in [Self.adminKey, wrongAdminKey, difyKey, dataKey, Self.encryptionKey] {
                #expect(!lines.contains { $0.contains(secret) }, "a log line holds \(secret.prefix(6))…")
            }
        }
    }
}
