import Fluent
import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Testing

@testable import ChatGateway

/// `/admin/v1/keys` and `/admin/v1/audit`.
@Suite("Admin keys and audit", .hangLimit)
struct AdminKeysTests {
    typealias A = AdminAPITests

    @Test func aDataKeyActsAsAnEnvironmentKeyUntilRevoked() async throws {
        try await A.withAdmin { gateway in
            let created = try await gateway.call(
                .POST, "/admin/v1/keys", headers: A.admin,
                json: ["name": "DrillQuiz backend", "systems": ["drillquiz"], "kind": "server"])
            #expect(created.status == 201)
            let key = try #require(created.object["key"] as? String)
            #expect(key.hasPrefix("cgk_") && key.count == 36)
            #expect(key.dropFirst(4).allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) })
            #expect(created.object["prefix"] as? String == String(key.prefix(12)))
            let id = try #require(created.object["id"] as? String)

            let header = [("X-API-Key", key)]
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: header, json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi"])
            #expect(chat.status == 200)
            let outside = try await gateway.call(
                .POST, "/v1/chat", headers: header, json: ["system_id": "cointutor", "user_id": "u1", "message": "hi"])
            #expect(outside.status == 403)

            // Uses are written by the once-a-second polling.
            try await gateway.waitFor("the key's use to be written", within: .seconds(45)) {
                let listed = try await gateway.call(.GET, "/admin/v1/keys", headers: A.admin)
                return listed.array.first { $0["id"] as? String == id }?["last_used_at"] is String
            }
            let listed = try await gateway.call(.GET, "/admin/v1/keys", headers: A.admin)
            #expect(!listed.text.contains(key))
            let row = try #require(listed.array.first { $0["id"] as? String == id })
            #expect(row["source"] as? String == "admin")
            #expect(row["last_used_at"] is String)
            #expect(listed.array.contains { $0["source"] as? String == "environment" && $0["prefix"] == nil })

            // The database holds the hash only.
            let stored = try await (gateway.app.db as! any SQLDatabase).select().column("*").from(AdminStore.keysTable)
                .all()
            #expect(stored.count == 1)
            #expect(try stored[0].decode(column: "key_hash", as: String.self) == GatewayRegistry.hash(key))

            #expect(try await gateway.call(.DELETE, "/admin/v1/keys/\(id)", headers: A.admin).status == 204)
            let revoked = try await gateway.call(
                .POST, "/v1/chat", headers: header, json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi"])
            #expect(revoked.status == 401)
            #expect(revoked.detail == "Invalid API key")
            #expect(try await gateway.call(.DELETE, "/admin/v1/keys/\(id)", headers: A.admin).status == 404)
        }
    }

    @Test func browserKeysNameTheirSystemsAndMayOnlyMintTokens() async throws {
        try await A.withAdmin { gateway in
            let everywhere = try await gateway.call(
                .POST, "/admin/v1/keys", headers: A.admin, json: ["name": "widget", "systems": [], "kind": "browser"])
            #expect(everywhere.status == 422)
            let created = try await gateway.call(
                .POST, "/admin/v1/keys", headers: A.admin,
                json: ["name": "widget", "systems": ["drillquiz"], "kind": "browser"])
            let key = try #require(created.object["key"] as? String)
            let header = [("X-API-Key", key)]
            let token = try await gateway.call(
                .GET, "/v1/chat-token?system_id=drillquiz&user_id=anonymous", headers: header)
            #expect(token.status == 200)
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: header, json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi"])
            #expect(chat.status == 403)
        }
    }

    @Test func anExpiredKeyIsInvalid() async throws {
        let clock = NIOLockedValueBox(Date())
        try await A.withAdmin(now: { clock.withLockedValue { $0 } }) { gateway in
            let past = try await gateway.call(
                .POST, "/admin/v1/keys", headers: A.admin,
                json: ["name": "old", "systems": [], "kind": "server", "expires_at": "2020-01-01T00:00:00Z"])
            #expect(past.status == 422)
            let inAnHour = ISO8601DateFormatter().string(from: clock.withLockedValue { $0 }.addingTimeInterval(3600))
            let created = try await gateway.call(
                .POST, "/admin/v1/keys", headers: A.admin,
                json: ["name": "brief", "systems": [], "kind": "server", "expires_at": inAnHour])
            let key = try #require(created.object["key"] as? String)
            func chat() async throws -> Int {
                try await gateway.call(
                    .POST, "/v1/chat", headers: [("X-API-Key", key)],
                    json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi"]
                ).status
            }
            #expect(try await chat() == 200)
            clock.withLockedValue { $0 = $0.addingTimeInterval(3601) }
            #expect(try await chat() == 401)
        }
    }

    @Test func everyChangeIsInTheAuditLogNewestFirstAndPaged() async throws {
        try await A.withAdmin { gateway in
            _ = try await gateway.call(.POST, "/admin/v1/systems", headers: A.admin, json: ["system_id": "quiz"])
            let key = try await gateway.call(
                .POST, "/admin/v1/keys", headers: A.admin, json: ["name": "k", "systems": [], "kind": "server"])
            let id = try #require(key.object["id"] as? String)
            _ = try await gateway.call(.DELETE, "/admin/v1/keys/\(id)", headers: A.admin)
            _ = try await gateway.call(.DELETE, "/admin/v1/systems/quiz", headers: A.admin)

            let all = try await gateway.call(.GET, "/admin/v1/audit", headers: A.admin)
            #expect(all.status == 200)
            #expect(
                all.array.map { $0["action"] as? String } == [
                    "system.deleted", "key.revoked", "key.created", "system.created",
                ])
            let actor = AdminGuard.fingerprint(A.adminKey)
            #expect(all.array.allSatisfy { $0["actor"] as? String == actor })
            #expect(!all.text.contains(A.adminKey))

            let first = try await gateway.call(.GET, "/admin/v1/audit?limit=3", headers: A.admin)
            #expect(first.array.count == 3)
            let cursor = try #require(first.headers.first(name: "X-Next-Cursor"))
            let rest = try await gateway.call(.GET, "/admin/v1/audit?limit=3&cursor=\(cursor)", headers: A.admin)
            #expect(rest.array.map { $0["action"] as? String } == ["system.created"])
            #expect(rest.headers.first(name: "X-Next-Cursor") == nil)
            let today = ISO8601DateFormatter().string(from: Date()).prefix(10)
            let dated = try await gateway.call(
                .GET, "/admin/v1/audit?from_date=\(today)&to_date=\(today)", headers: A.admin)
            #expect(dated.array.count == 4)
            let before = try await gateway.call(.GET, "/admin/v1/audit?to_date=2020-01-01", headers: A.admin)
            #expect(before.array.isEmpty)
        }
    }
}

@Suite("Admin answers match the OpenAPI document", .hangLimit)
struct AdminOpenAPITests {
    typealias A = AdminAPITests

    @Test func everyAdminAnswerIsDocumented() async throws {
        let validator = OpenAPISchemaValidator(document: try OpenAPIConformanceTests.document())
        try await A.withAdmin { gateway in
            let h = A.admin
            let created = try await gateway.call(
                .POST, "/admin/v1/keys", headers: h, json: ["name": "k", "systems": [], "kind": "server"])
            let keyID = created.object["id"] as? String ?? "missing"
            let exchanges: [(String, String, GatewayHarness.Reply)] = [
                (
                    "POST", "/admin/v1/systems",
                    try await gateway.call(
                        .POST, "/admin/v1/systems", headers: h,
                        json: ["system_id": "quiz", "dify_base_url": gateway.fake.baseURL, "dify_api_key": "app-x"])
                ),
                (
                    "POST", "/admin/v1/systems",
                    try await gateway.call(.POST, "/admin/v1/systems", headers: h, json: [:])
                ),
                ("GET", "/admin/v1/systems", try await gateway.call(.GET, "/admin/v1/systems", headers: h)),
                ("GET", "/admin/v1/systems", try await gateway.call(.GET, "/admin/v1/systems")),
                (
                    "GET", "/admin/v1/systems/{system_id}",
                    try await gateway.call(.GET, "/admin/v1/systems/quiz", headers: h)
                ),
                (
                    "GET", "/admin/v1/systems/{system_id}",
                    try await gateway.call(.GET, "/admin/v1/systems/nope", headers: h)
                ),
                (
                    "PATCH", "/admin/v1/systems/{system_id}",
                    try await gateway.call(.PATCH, "/admin/v1/systems/quiz", headers: h, json: ["enabled": false])
                ),
                (
                    "POST", "/admin/v1/systems/{system_id}/check",
                    try await gateway.call(.POST, "/admin/v1/systems/quiz/check", headers: h)
                ),
                ("POST", "/admin/v1/keys", created),
                ("GET", "/admin/v1/keys", try await gateway.call(.GET, "/admin/v1/keys", headers: h)),
                (
                    "DELETE", "/admin/v1/keys/{key_id}",
                    try await gateway.call(.DELETE, "/admin/v1/keys/\(keyID)", headers: h)
                ),
                ("GET", "/admin/v1/audit", try await gateway.call(.GET, "/admin/v1/audit?limit=2", headers: h)),
                ("GET", "/admin/v1/audit", try await gateway.call(.GET, "/admin/v1/audit?limit=0", headers: h)),
                (
                    "DELETE", "/admin/v1/systems/{system_id}",
                    try await gateway.call(.DELETE, "/admin/v1/systems/quiz", headers: h)
                ),
            ]
            try OpenAPIConformanceTests.expectDocumented(exchanges, validator)
        }
    }
}
