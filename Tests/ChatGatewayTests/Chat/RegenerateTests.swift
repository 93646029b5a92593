import FakeDify
import Foundation
import SQLKit
import Testing

@testable import ChatGateway

@Suite("Regenerate: an answer's question asked again, kept as a sibling", .hangLimit)
struct RegenerateTests {
    @Test func twoRegeneratesMakeThreeSiblingsEachStoredWithItsUsage() async throws {
        try await GatewayHarness.with { gateway in
            let first = try await PageFeaturesHarness.chat(gateway, ["message": "/vary Tell me a fact"])
            let conversation = try #require(first.object["conversation_id"] as? String)
            let firstID = try #require(first.object["message_id"] as? String)
            let second = try await PageFeaturesHarness.chat(gateway, ["regenerate": "\(firstID)_assistant"])
            #expect(second.status == 200)
            #expect(second.object["conversation_id"] as? String == conversation)
            let secondID = try #require(second.object["message_id"] as? String)
            // Regenerating the second attempt is one more attempt of the first.
            let third = try await PageFeaturesHarness.chat(
                gateway, ["regenerate": secondID, "stream": true, "conversation_id": conversation])
            #expect(third.status == 200)

            let rows = try await PageFeaturesHarness.messages(gateway, conversation: conversation)
            #expect(rows.map { $0["role"] as? String } == ["user", "assistant"])
            let siblings = try #require(rows[1]["siblings"] as? [[String: Any]])
            #expect(siblings.count == 3)
            #expect(
                siblings.map { $0["content"] as? String } == [
                    "Tell me a fact #1", "Tell me a fact #2", "Tell me a fact #3",
                ])
            #expect(rows[1]["id"] as? String == siblings[2]["id"] as? String)
            #expect(siblings[0]["id"] as? String == "\(firstID)_assistant")

            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.filter { $0.role == "user" }.compactMap(\.regenerates) == [firstID, firstID])
            let counted = try await gateway.sql.select().column("total_tokens").from(StoredMessage.schema)
                .where("role", .equal, "assistant").all().map { try $0.decode(column: "total_tokens", as: Int?.self) }
            #expect(counted.count == 3 && counted.allSatisfy { $0 != nil })
            let cached = try await gateway.call(
                .GET, "/v1/cache/conversations/\(conversation)/messages", headers: GatewayHarness.keyHeader)
            #expect(cached.array.compactMap { $0["regenerates"] as? String } == [firstID, firstID])
        }
    }

    @Test func onlyTheUsersOwnAnswerCanBeRegenerated() async throws {
        try await GatewayHarness.with { gateway in
            let first = try await PageFeaturesHarness.chat(gateway, ["message": "mine"])
            let id = try #require(first.object["message_id"] as? String)
            let other = try await PageFeaturesHarness.chat(gateway, ["regenerate": id], user: "u2")
            #expect(other.status == 404)
            let unknown = try await PageFeaturesHarness.chat(gateway, ["regenerate": UUID().uuidString])
            #expect(unknown.status == 404)
            let elsewhere = try await PageFeaturesHarness.chat(
                gateway, ["regenerate": id, "conversation_id": UUID().uuidString])
            #expect(elsewhere.status == 404)
            let nothing = try await PageFeaturesHarness.chat(gateway, [:])
            #expect(nothing.status == 422)
            let another = try await PageFeaturesHarness.chat(
                gateway, ["regenerate": id, "message": "another question"])
            #expect(another.status == 422)
            #expect(await gateway.fake.store.chatRequestCount == 1)
        }
    }

    @Test func anAttemptStillStreamingIsTheNewestSiblingNotAQuestionOfItsOwn() async throws {
        try await GatewayHarness.with { gateway in
            let first = try await PageFeaturesHarness.chat(gateway, ["message": "/tokens 600"])
            let firstID = try #require(first.object["message_id"] as? String)
            let conversation = try #require(first.object["conversation_id"] as? String)
            // A minute of answer, stopped once seen: the attempt is in progress however slow the machine.
            var slow = FakeDifyOptions(apiKeys: [GatewayHarness.difyKey])
            slow.tokenDelay = .milliseconds(100)
            await gateway.fake.store.setOptions(slow)
            let bearer = try await PageFeaturesHarness.bearer(gateway)
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: bearer, json: ["regenerate": firstID, "stream": true])
            let start = try #require(try await stream.next())
            let taskID = try #require(start.data["task_id"] as? String)
            var rows: [[String: Any]] = []
            try await gateway.waitFor("the attempt in progress") {
                rows = try await PageFeaturesHarness.messages(gateway, conversation: conversation)
                return rows.last?["turn_id"] != nil
            }
            #expect(rows.map { $0["role"] as? String } == ["user", "assistant"])
            let siblings = try #require(rows[1]["siblings"] as? [[String: Any]])
            #expect(siblings.count == 2 && siblings[0]["id"] as? String == "\(firstID)_assistant")
            #expect(siblings[1]["turn_id"] as? String == rows[1]["turn_id"] as? String)
            let stop = try await gateway.call(.POST, "/v1/chat/\(taskID)/stop", headers: bearer)
            #expect(stop.status == 200)
            #expect(try await stream.readAll().last?.name == "done")
        }
    }

    @Test func aFirstAttemptWithoutAnAnswerStillGathersItsRepeats() {
        let notes = ConversationStore.TurnNotes(sources: [:], regenerates: ["m2": "m1", "m3": "m1"])
        let turns = [
            DifyMessage(id: "m1", conversationID: "c", query: "Q", answer: "", createdAt: 1),
            DifyMessage(id: "m2", conversationID: "c", query: "Q", answer: "A2", createdAt: 2),
            DifyMessage(id: "m3", conversationID: "c", query: "Q", answer: "A3", createdAt: 3),
            DifyMessage(id: "m4", conversationID: "c", query: "next", answer: "A4", createdAt: 4),
        ]
        let rows = MessageListing(notes: notes, links: SourceLinks()).rows(for: turns)
        #expect(rows.map(\.id) == ["m1_user", "m3_assistant", "m4_user", "m4_assistant"])
        #expect(rows[1].siblings?.map(\.content) == ["A2", "A3"])
        #expect(rows[3].siblings == nil)
    }
}
