import Foundation
import Testing

@testable import ChatGateway

@Suite("Conversation and message controls", .hangLimit)
struct ConversationControlsTests {
    static let alice = "system_id=drillquiz&user_id=alice"
    static let bob = "system_id=drillquiz&user_id=bob"

    /// Alice's first turn: (conversation id, message id).
    static func aliceChats(_ gateway: GatewayHarness) async throws -> (String, String) {
        let chat = try await gateway.call(
            .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
            json: ["system_id": "drillquiz", "user_id": "alice", "message": "hello"])
        return (
            try #require(chat.object["conversation_id"] as? String), try #require(chat.object["message_id"] as? String)
        )
    }

    @Test func deleteRemovesItInDifyAndInTheGateway() async throws {
        try await GatewayHarness.with { gateway in
            let (conversation, _) = try await Self.aliceChats(gateway)
            let intruder = try await gateway.call(
                .DELETE, "/v1/conversations/\(conversation)?\(Self.bob)", headers: GatewayHarness.keyHeader)
            #expect(intruder.status == 404)
            let deleted = try await gateway.call(
                .DELETE, "/v1/conversations/\(conversation)?\(Self.alice)", headers: GatewayHarness.keyHeader)
            #expect(deleted.status == 204)
            #expect(await gateway.fake.store.conversationIDs(user: "drillquiz_alice").isEmpty)
            #expect(try await StoredConversation.query(on: gateway.app.db).count() == 0)
            #expect(try await StoredMessage.query(on: gateway.app.db).count() == 0)
            let again = try await gateway.call(
                .DELETE, "/v1/conversations/\(conversation)?\(Self.alice)", headers: GatewayHarness.keyHeader)
            #expect(again.status == 404)
            let listing = try await gateway.call(
                .GET, "/v1/conversations/\(conversation)/messages?\(Self.alice)", headers: GatewayHarness.keyHeader)
            #expect(listing.status == 404)
        }
    }

    @Test func deleteWithATokenAndAJSONBody() async throws {
        try await GatewayHarness.with { gateway in
            let (conversation, _) = try await Self.aliceChats(gateway)
            let token = try await gateway.token(system: "drillquiz", user: "alice")
            let deleted = try await gateway.call(
                .DELETE, "/v1/conversations/\(conversation)", headers: [("Authorization", "Bearer \(token)")],
                json: [String: String]())
            #expect(deleted.status == 204)
        }
    }

    @Test func renameByHandAndAutomatically() async throws {
        try await GatewayHarness.with { gateway in
            let (conversation, _) = try await Self.aliceChats(gateway)
            let renamed = try await gateway.call(
                .POST, "/v1/conversations/\(conversation)/name", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "alice", "name": "Physics homework"])
            #expect(renamed.status == 200)
            #expect(renamed.object["name"] as? String == "Physics homework")
            #expect(try await StoredConversation.query(on: gateway.app.db).first()?.name == "Physics homework")
            let listed = try await gateway.call(
                .GET, "/v1/conversations?\(Self.alice)", headers: GatewayHarness.keyHeader)
            #expect(listed.array.first?["name"] as? String == "Physics homework")
            let generated = try await gateway.call(
                .POST, "/v1/conversations/\(conversation)/name", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "alice", "auto_generate": true])
            #expect(generated.status == 200)
            #expect((generated.object["name"] as? String)?.isEmpty == false)
            let empty = try await gateway.call(
                .POST, "/v1/conversations/\(conversation)/name", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "alice", "name": "  "])
            #expect(empty.status == 422)
            let intruder = try await gateway.call(
                .POST, "/v1/conversations/\(conversation)/name", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "bob", "name": "mine now"])
            #expect(intruder.status == 404)
        }
    }

    @Test func feedbackLikeDislikeClear() async throws {
        try await GatewayHarness.with { gateway in
            let (conversation, message) = try await Self.aliceChats(gateway)
            for (rating, id) in [("like", message), ("dislike", "\(message)_assistant")] as [(String, String)] {
                let reply = try await gateway.call(
                    .POST, "/v1/messages/\(id)/feedbacks", headers: GatewayHarness.keyHeader,
                    json: ["system_id": "drillquiz", "user_id": "alice", "rating": rating, "content": "why"])
                #expect(reply.status == 200)
                #expect(reply.object["result"] as? String == "success")
            }
            let cleared = try await gateway.call(
                .POST, "/v1/messages/\(message)/feedbacks", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "alice", "rating": NSNull()])
            #expect(cleared.status == 200)
            let bogus = try await gateway.call(
                .POST, "/v1/messages/\(message)/feedbacks", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "alice", "rating": "love"])
            #expect(bogus.status == 422)
            let intruder = try await gateway.call(
                .POST, "/v1/messages/\(message)/feedbacks", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "bob", "rating": "dislike"])
            #expect(intruder.status == 404)
            _ = conversation
        }
    }

    @Test func suggestedQuestions() async throws {
        try await GatewayHarness.with { gateway in
            let (_, message) = try await Self.aliceChats(gateway)
            let reply = try await gateway.call(
                .GET, "/v1/messages/\(message)/suggested?\(Self.alice)", headers: GatewayHarness.keyHeader)
            #expect(reply.status == 200)
            #expect((reply.object["data"] as? [String])?.isEmpty == false)
            let intruder = try await gateway.call(
                .GET, "/v1/messages/\(message)/suggested?\(Self.bob)", headers: GatewayHarness.keyHeader)
            #expect(intruder.status == 404)
            let unknown = try await gateway.call(
                .GET, "/v1/messages/\(UUID())/suggested?\(Self.bob)", headers: GatewayHarness.keyHeader)
            #expect(unknown.status == 404)
            let garbage = try await gateway.call(
                .GET, "/v1/messages/x/suggested?\(Self.bob)", headers: GatewayHarness.keyHeader)
            #expect(garbage.status == 404)
        }
    }

    /// Ids the gateway never saw are still scoped by Dify: another user's get 404, never someone else's data.
    @Test func difyScopingCoversIDsTheGatewayNeverSaw() async throws {
        try await GatewayHarness.with { gateway in
            let conversation = try #require(
                await gateway.fake.store.seed(user: "drillquiz_carol", conversations: 1, turnsEach: 1).first)
            let delete = try await gateway.call(
                .DELETE, "/v1/conversations/\(conversation)?\(Self.bob)", headers: GatewayHarness.keyHeader)
            #expect(delete.status == 404)
            let rename = try await gateway.call(
                .POST, "/v1/conversations/\(conversation)/name", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "bob", "name": "x"])
            #expect(rename.status == 404)
            #expect(await gateway.fake.store.conversationIDs(user: "drillquiz_carol") == [conversation])
        }
    }
}
