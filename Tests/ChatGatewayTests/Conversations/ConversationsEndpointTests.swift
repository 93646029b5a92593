import Foundation
import Testing

@testable import ChatGateway

@Suite("GET /v1/conversations and /v1/conversations/{id}/messages", .hangLimit)
struct ConversationsEndpointTests {
    @Test func listsEveryPage() async throws {
        try await GatewayHarness.with { gateway in
            // given: more than two of Dify's default pages of 20, and more than one of 100
            let seeded = await gateway.fake.store.seed(user: "drillquiz_u1", conversations: 130, turnsEach: 1)
            await gateway.fake.store.seed(user: "drillquiz_u2", conversations: 3, turnsEach: 1)
            // when
            let reply = try await gateway.call(
                .GET, "/v1/conversations?system_id=drillquiz&user_id=u1", headers: GatewayHarness.keyHeader)
            // then
            #expect(reply.status == 200)
            let ids = reply.array.compactMap { $0["id"] as? String }
            #expect(ids.count == 130)
            #expect(Set(ids) == Set(seeded))
            #expect(reply.array.allSatisfy { $0["created_at"] is Int && $0.keys.contains("name") })
        }
    }

    @Test func listsEveryMessageOldestFirst() async throws {
        try await GatewayHarness.with { gateway in
            let conversation = try #require(
                await gateway.fake.store.seed(user: "drillquiz_u1", conversations: 1, turnsEach: 130).first)
            let reply = try await gateway.call(
                .GET, "/v1/conversations/\(conversation)/messages?system_id=drillquiz&user_id=u1",
                headers: GatewayHarness.keyHeader)
            #expect(reply.status == 200)
            let rows = reply.array
            #expect(rows.count == 260)
            #expect(rows.map { $0["role"] as? String }.prefix(4) == ["user", "assistant", "user", "assistant"])
            #expect((rows.first?["id"] as? String)?.hasSuffix("_user") == true)
            let times = rows.compactMap { $0["created_at"] as? Int }
            #expect(times == times.sorted())
            let ids = rows.compactMap { $0["id"] as? String }
            #expect(Set(ids).count == ids.count)
        }
    }

    @Test func chatAnswersShowUpInTheListings() async throws {
        try await GatewayHarness.with { gateway in
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "hello"])
            let conversationID = try #require(chat.object["conversation_id"] as? String)
            let token = try await gateway.token(system: "drillquiz", user: "u1")
            let list = try await gateway.call(
                .GET, "/v1/conversations", headers: [("Authorization", "Bearer \(token)")])
            #expect(list.array.compactMap { $0["id"] as? String } == [conversationID])
            let messages = try await gateway.call(
                .GET, "/v1/conversations/\(conversationID)/messages", headers: [("Authorization", "Bearer \(token)")])
            #expect(messages.array.compactMap { $0["content"] as? String } == ["hello", "Echo: hello"])
        }
    }

    @Test func anotherUsersConversationIsNotFound() async throws {
        try await GatewayHarness.with { gateway in
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "alice", "message": "private"])
            let conversationID = try #require(chat.object["conversation_id"] as? String)
            let bob = try await gateway.call(
                .GET, "/v1/conversations/\(conversationID)/messages?system_id=drillquiz&user_id=bob",
                headers: GatewayHarness.keyHeader)
            #expect(bob.status == 404)
            // Even when the gateway has not seen it, Dify's per-user scoping answers 404 too.
            let seeded = try #require(
                await gateway.fake.store.seed(user: "drillquiz_carol", conversations: 1, turnsEach: 1).first)
            let probe = try await gateway.call(
                .GET, "/v1/conversations/\(seeded)/messages?system_id=drillquiz&user_id=bob",
                headers: GatewayHarness.keyHeader)
            #expect(probe.status == 404)
            let garbage = try await gateway.call(
                .GET, "/v1/conversations/not-an-id/messages?system_id=drillquiz&user_id=bob",
                headers: GatewayHarness.keyHeader)
            #expect(garbage.status == 404)
        }
    }

    @Test func upstreamFailureIs502() async throws {
        try await GatewayHarness.with(adjust: { $0.difyAPIKey = "app-wrong" }) { gateway in
            let reply = try await gateway.call(
                .GET, "/v1/conversations?system_id=drillquiz&user_id=u1", headers: GatewayHarness.keyHeader)
            #expect(reply.status == 502)
            #expect(!reply.text.contains("app-wrong"))
        }
    }
}
