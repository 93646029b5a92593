import Foundation
import SQLKit
import Testing
import Vapor

@testable import ChatGateway

@Suite("Retention", .hangLimit)
struct RetentionTests {
    static let day: TimeInterval = 86_400

    @Test("with 30 days, a conversation 31 days old goes; one 29 days old and one on legal hold stay; the sums stay")
    func expiredConversationsGo() async throws {
        let start = Date()
        let clock = TestClock(start.addingTimeInterval(-31 * Self.day))
        try await PersonalData.with(
            adjust: { settings in
                settings.retentionDays = 30
                settings.retentionInterval = .seconds(1)
            }, dependencies: GatewayDependencies(now: clock.now)
        ) { gateway in
            // Dify's clock moves with the gateway's.
            func moveDify(to date: Date) async {
                var options = await gateway.fake.store.options
                options.clockOffsetSeconds = Int(date.timeIntervalSince(Date()))
                await gateway.fake.store.setOptions(options)
            }
            await moveDify(to: clock.now())
            let old = try await PersonalData.chat(gateway, "old", user: "keeper")
            let held = try await PersonalData.chat(gateway, "held", user: "keeper")
            let revived = try await PersonalData.chat(gateway, "first, long ago", user: "keeper")
            let placed = try await gateway.call(
                .PUT, "/admin/v1/conversations/\(held)/legal-hold", headers: PersonalData.admin)
            #expect(placed.status == 200)
            clock.advance(by: 2 * Self.day)
            await moveDify(to: clock.now())
            let recent = try await PersonalData.chat(gateway, "recent", user: "keeper")
            // A conversation's age counts from its last message.
            try await PersonalData.chat(gateway, "and again", user: "keeper", conversationID: revived)
            let chatsBefore = try await Self.chatsCounted(gateway)
            clock.advance(by: 29 * Self.day)
            await moveDify(to: clock.now())

            // The job counts a batch once its transaction has committed, messages last: wait for that count, not the rows.
            var metrics: [String: Double] = [:]
            try await gateway.waitFor("the retention job", within: .seconds(20)) {
                metrics = MetricsEndpointTests.samples(try await gateway.call(.GET, "/metrics").text)
                return (metrics[#"chatgw_retention_deleted_total{kind="messages"}"#] ?? 0) > 0
            }
            #expect(try await !Self.exists(gateway, old))
            #expect(metrics[#"chatgw_retention_deleted_total{kind="conversations"}"#] == 1)
            #expect(metrics[#"chatgw_retention_deleted_total{kind="messages"}"#] == 2)
            #expect(try await Self.exists(gateway, held))
            #expect(try await Self.exists(gateway, recent))
            #expect(try await Self.exists(gateway, revived))
            #expect(try await gateway.messages(system: "drillquiz", user: "keeper").count == 8)
            #expect(try await Self.chatsCounted(gateway) == chatsBefore)
            // Dify keeps its copy unless the system asks otherwise, and the history sync does not bring it back.
            #expect(try await PersonalData.difyConversations(gateway, user: "keeper") == 4)
            let sync = try await gateway.call(.POST, "/v1/sync", headers: GatewayHarness.keyHeader)
            #expect(sync.status == 200, "\(sync.text)")
            #expect(try await !Self.exists(gateway, old))
            #expect(try await Self.chatsCounted(gateway) == chatsBefore)
        }
    }

    @Test(
        "a system's own retention_days wins over RETENTION_DAYS, and with retention_delete_in_dify Dify's copy goes too"
    )
    func systemPolicy() async throws {
        let clock = TestClock(Date().addingTimeInterval(-10 * Self.day))
        try await PersonalData.with(
            adjust: { settings in
                settings.retentionInterval = .seconds(1)
                settings.encryptionKey = String(repeating: "ab", count: 32)
            },
            dependencies: GatewayDependencies(now: clock.now)
        ) { gateway in
            let created = try await gateway.call(
                .POST, "/admin/v1/systems", headers: PersonalData.admin,
                json: [
                    "system_id": "brief", "name": "Brief", "dify_base_url": gateway.fake.baseURL,
                    "dify_api_key": GatewayHarness.difyKey, "retention_days": 7, "retention_delete_in_dify": true,
                ])
            #expect(created.status == 201, "\(created.text)")
            #expect(created.object["retention_days"] as? Int == 7)
            #expect(created.object["retention_delete_in_dify"] as? Bool == true)
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "brief", "user_id": "short-lived", "message": "soon gone"])
            #expect(reply.status == 200, "\(reply.text)")
            let conversation = try #require(reply.object["conversation_id"] as? String)
            let unset = try await gateway.call(
                .PATCH, "/admin/v1/systems/brief", headers: PersonalData.admin, json: ["name": "Brief 2"])
            #expect(unset.object["retention_days"] as? Int == 7, "a PATCH without it leaves it")
            clock.advance(by: 8 * Self.day)
            try await gateway.waitFor("the retention job", within: .seconds(20)) {
                try await !Self.exists(gateway, conversation)
            }
            // Dify's copy goes right after the gateway's batch commits.
            try await gateway.waitFor("Dify's copy to go", within: .seconds(20)) {
                let inDify = try await PersonalData.fake(
                    gateway, .GET, "conversations?user=brief_short-lived&limit=100")
                return (inDify.object["data"] as? [[String: Any]])?.count == 0
            }
            let cleared = try await gateway.call(
                .PATCH, "/admin/v1/systems/brief", headers: PersonalData.admin, json: ["retention_days": NSNull()])
            #expect(cleared.status == 200)
            #expect(cleared.object["retention_days"] == nil || cleared.object["retention_days"] is NSNull)
            let invalid = try await gateway.call(
                .PATCH, "/admin/v1/systems/brief", headers: PersonalData.admin, json: ["retention_days": -3])
            #expect(invalid.status == 422)
        }
    }

    static func exists(_ gateway: GatewayHarness, _ conversationID: String) async throws -> Bool {
        try await gateway.sql.select().column("conversation_id").from(StoredConversation.schema)
            .where("conversation_id", .equal, SQLBind(conversationID)).first() != nil
    }

    static func chatsCounted(_ gateway: GatewayHarness) async throws -> Int {
        try await gateway.sql.select().column("chats").from(UsageRollup.systemsTable).all()
            .map { try $0.decode(column: "chats", as: Int.self) }.reduce(0, +)
    }
}
