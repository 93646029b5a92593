import FakeDify
import Foundation
import Testing

@testable import ChatGateway

@Suite("POST /v1/chat", .hangLimit)
struct ChatEndpointTests {
    @Test func answersAndStoresBothSides() async throws {
        try await GatewayHarness.with { gateway in
            // when
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "12345", "message": "안녕하세요"])
            // then
            #expect(reply.status == 200)
            #expect(reply.object["answer"] as? String == "Echo: 안녕하세요")
            let conversationID = try #require(reply.object["conversation_id"] as? String)
            let messageID = try #require(reply.object["message_id"] as? String)
            let usage = (reply.object["metadata"] as? [String: Any])?["usage"] as? [String: Any]
            #expect(usage?["total_tokens"] != nil)
            // Keys come sorted, so one answer is always one text.
            #expect(
                String(decoding: reply.body, as: UTF8.self).hasPrefix(#"{"answer":"Echo: 안녕하세요","conversation_id":""#))
            #expect(reply.headers.first(name: .contentType) == "application/json; charset=utf-8")
            let stored = try await gateway.messages(system: "drillquiz", user: "12345")
            #expect(stored.map(\.messageID) == ["\(messageID)_user", "\(messageID)_assistant"])
            #expect(stored.map(\.content) == ["안녕하세요", "Echo: 안녕하세요"])
            #expect(stored.allSatisfy { $0.conversationID == conversationID && $0.status == .complete })
            #expect(try await ChatUser.query(on: gateway.app.db).count() == 1)
        }
    }

    @Test func continuesAConversation() async throws {
        try await GatewayHarness.with { gateway in
            let first = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "one"])
            let conversationID = try #require(first.object["conversation_id"] as? String)
            let second = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "two", "conversation_id": conversationID])
            #expect(second.status == 200)
            #expect(second.object["conversation_id"] as? String == conversationID)
            #expect(await gateway.fake.store.messageCount(conversationID: conversationID) == 2)
            #expect(try await StoredConversation.query(on: gateway.app.db).count() == 1)
        }
    }

    @Test func passesInputsThroughAndRejectsDeepOnes() async throws {
        try await GatewayHarness.with { gateway in
            let ok = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi", "inputs": ["language": "ko"]])
            #expect(ok.status == 200)
            var deep: Any = ["leaf": 1]
            for _ in 0..<12 { deep = ["nested": deep] }
            let tooDeep = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi", "inputs": deep])
            #expect(tooDeep.status == 422)
        }
    }

    @Test func someoneElsesConversationIsNotFound() async throws {
        try await GatewayHarness.with { gateway in
            let mine = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "alice", "message": "secret"])
            let conversationID = try #require(mine.object["conversation_id"] as? String)
            let theirs = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: [
                    "system_id": "drillquiz", "user_id": "bob", "message": "peek", "conversation_id": conversationID,
                ])
            #expect(theirs.status == 404)
            let unknown = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: [
                    "system_id": "drillquiz", "user_id": "bob", "message": "x", "conversation_id": UUID().uuidString,
                ])
            #expect(unknown.status == 404)
        }
    }

    @Test(arguments: [
        #"{}"#,
        #"{"system_id": "drillquiz", "user_id": "u1", "message": "   "}"#,
        #"{"system_id": "drillquiz", "user_id": "u1", "message": 5}"#,
        #"{"system_id": "drillquiz", "user_id": "u1", "message": null}"#,
        #"{"system_id": "drillquiz", "user_id": "u1", "message": "hi", "conversation_id": "not-a-uuid"}"#,
        #"{"system_id": "drillquiz", "user_id": "u1", "message": "hi", "inputs": [1, 2]}"#,
        #"{"system_id": "drillquiz", "user_id": "u1", "message": "\#(String(repeating: "가", count: 8001))"}"#,
    ])
    func refusesBadBodiesWith422(body: String) async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(
                .POST, "/v1/chat",
                headers: [("X-API-Key", GatewayHarness.apiKey), ("Content-Type", "application/json")],
                rawBody: Data(body.utf8))
            #expect(reply.status == 422)
            #expect(reply.detail?.isEmpty == false)
            #expect(try await StoredMessage.query(on: gateway.app.db).count() == 0)
        }
    }

    @Test func refusesBrokenJSONAndOversizeBodies() async throws {
        try await GatewayHarness.with(adjust: { $0.maxRequestBytes = 4096 }) { gateway in
            let broken = try await gateway.call(
                .POST, "/v1/chat",
                headers: [("X-API-Key", GatewayHarness.apiKey), ("Content-Type", "application/json")],
                rawBody: Data("{\"message\": ".utf8))
            #expect(broken.status == 422)
            let huge = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1", "message": String(repeating: "a", count: 10_000)])
            #expect(huge.status == 413)
            #expect(huge.detail != nil)
        }
    }

    @Test func messageLimitIsConfigurable() async throws {
        try await GatewayHarness.with(adjust: { $0.maxMessageCharacters = 10 }) { gateway in
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "eleven char"])
            #expect(reply.status == 422)
            #expect(reply.detail?.contains("10") == true)
        }
    }
}
