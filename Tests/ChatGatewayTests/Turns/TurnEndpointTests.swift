import FakeDify
import Foundation
import SQLKit
import Testing

@testable import ChatGateway

@Suite("Turns: ids, reattaching, listings, recovery", .hangLimit)
struct TurnEndpointTests {
    static let slow = ChatStreamingTests.slow
    static let expected = ChatStreamingTests.expected
    static func identity(_ user: String = "u1") -> String { "system_id=drillquiz&user_id=\(user)" }

    static func deltas(_ events: [SSETestClient.Event]) -> String {
        events.reduce("") { text, event in
            switch event.name {
            case "delta": text + (event.data["text"] as? String ?? "")
            case "sync": event.data["text"] as? String ?? ""
            default: text
            }
        }
    }

    @Test func aStreamNamesItsTurnAndNumbersItsEvents() async throws {
        try await GatewayHarness.with { gateway in
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: ChatStreamingTests.body("hi"))
            let events = try await stream.readAll()
            let turnID = try #require(stream.headers.first(name: "X-Turn-Id"))
            #expect(events.first?.data["turn_id"] as? String == turnID)
            #expect(stream.rawText.contains("retry: 1000\nid: "))
            let ids = events.compactMap(\.id)
            #expect(ids.count == events.count && ids == ids.sorted() && Set(ids).count == ids.count)
            let turn = try await gateway.call(
                .GET, "/v1/turns/\(turnID)?\(Self.identity())", headers: GatewayHarness.keyHeader)
            #expect(turn.status == 200)
            #expect(turn.object["status"] as? String == "completed")
            #expect(turn.object["text"] as? String == "Echo: hi")
            #expect(turn.object["conversation_id"] as? String == events.first?.data["conversation_id"] as? String)
            #expect((turn.object["usage"] as? [String: Any])?["total_tokens"] != nil)
            #expect(turn.object["last_event_id"] as? Int == events.last?.id)
        }
    }

    @Test func aBlockingChatNamesItsTurnToo() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi"])
            let turnID = try #require(reply.headers.first(name: "X-Turn-Id"))
            let turn = try await gateway.call(
                .GET, "/v1/turns/\(turnID)?\(Self.identity())", headers: GatewayHarness.keyHeader)
            #expect(turn.object["status"] as? String == "completed")
            #expect(turn.object["message_id"] as? String == reply.object["message_id"] as? String)
        }
    }

    /// A client that lost its stream resumes after its last event, and gets exactly the rest.
    @Test func aClientThatLeftResumesAfterItsLastEvent() async throws {
        try await GatewayHarness.with(fakeOptions: Self.slow) { gateway in
            let first = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ChatStreamingTests.body("/tokens 20"))
            var seen: [SSETestClient.Event] = []
            while seen.filter({ $0.name == "delta" }).count < 2, let event = try await first.next() {
                seen.append(event)
            }
            first.disconnect()
            let turnID = try #require(first.headers.first(name: "X-Turn-Id"))
            let lastID = try #require(seen.last?.id)
            let rest = try await SSETestClient.open(
                gateway.baseURL + "/v1/turns/\(turnID)/events?\(Self.identity())",
                headers: GatewayHarness.keyHeader + [("Last-Event-ID", String(lastID))])
            #expect(rest.status == 200)
            let more = try await rest.readAll()
            #expect(more.allSatisfy { ($0.id ?? 0) > lastID })
            #expect(more.last?.name == "done")
            #expect(Self.deltas(seen + more) == Self.expected)
            // Finished, and the client has its last event: nothing more, so an EventSource stops.
            let doneID = try #require(more.last?.id)
            let none = try await gateway.call(
                .GET, "/v1/turns/\(turnID)/events?\(Self.identity())&after=\(doneID)", headers: GatewayHarness.keyHeader
            )
            #expect(none.status == 204)
            // From the beginning: the events again, or, once they are no longer held, the text as one sync.
            let again = try await SSETestClient.open(
                gateway.baseURL + "/v1/turns/\(turnID)/events?\(Self.identity())", headers: GatewayHarness.keyHeader)
            let replay = try await again.readAll()
            #expect(replay.first?.name == "start" && replay.last?.name == "done")
            #expect(Self.deltas(replay) == Self.expected)
            #expect(replay.last?.id == doneID)
        }
    }

    /// Once a turn ended and left this process, a reader from the beginning gets its text as one `sync`.
    @Test func anEndedTurnIsReplayedFromTheDatabaseAsOneSync() async throws {
        try await GatewayHarness.with { gateway in
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: ChatStreamingTests.body("hi"))
            let events = try await stream.readAll()
            let turnID = try #require(stream.headers.first(name: "X-Turn-Id"))
            let rowID = try #require(UUID(uuidString: turnID))
            // Until the journal's next flush drops them, its rows would answer exactly instead. The client has `done`
            // before the turn leaves the process, and a flush begun before that may still write them.
            let registry = try #require(gateway.app.gracefulShutdown?.streams)
            let source = StoredTurnEvents(rowID: rowID, store: TurnEventStore(database: { gateway.app.db }))
            var replay: (entries: [TurnLog.Entry], finished: Bool) = ([], false)
            try await gateway.waitFor("the turn to leave the process and the journal to drop its rows") {
                guard registry.turn(turnID) == nil else { return false }
                let read = try await source.entries(after: 0)
                replay = (Array(read.entries), read.finished)
                return replay.entries.count == 3
            }
            #expect(replay.finished)
            #expect(replay.entries.map(\.id) == [1, events.last!.id! - 1, events.last!.id!])
            guard replay.entries.count == 3, case .sync("Echo: hi", _) = replay.entries[1].event else {
                Issue.record("not a sync: \(replay.entries)")
                return
            }
            let (rest, _) = try await source.entries(after: events.last!.id!)
            #expect(rest.isEmpty)
            // A reader past the ending (a crashed process sent ids its journal never stored): the answer, numbered on.
            let (ahead, _) = try await source.entries(after: events.last!.id! + 3)
            #expect(ahead.map(\.id) == [events.last!.id! + 4, events.last!.id! + 5])
        }
    }

    @Test func anotherUsersTurnIsNotFound() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi"])
            let turnID = try #require(reply.headers.first(name: "X-Turn-Id"))
            for path in [
                "/v1/turns/\(turnID)?\(Self.identity("u2"))", "/v1/turns/\(turnID)/events?\(Self.identity("u2"))",
                "/v1/turns/not-a-turn?\(Self.identity())", "/v1/turns/\(UUID().uuidString)?\(Self.identity())",
            ] {
                #expect(try await gateway.call(.GET, path, headers: GatewayHarness.keyHeader).status == 404, "\(path)")
            }
            let token = try await gateway.token(user: "u2")
            #expect(
                try await gateway.call(.GET, "/v1/turns/\(turnID)", headers: [("Authorization", "Bearer \(token)")])
                    .status == 404)
        }
    }

    /// While a turn runs, the listings name it and its messages hold the answer so far.
    @Test func listingsShowATurnInProgress() async throws {
        try await GatewayHarness.with(fakeOptions: Self.slow) { gateway in
            // A minute of answer, however slow the machine: it runs until the test stops it.
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ChatStreamingTests.body("/tokens 600"))
            var seen: [SSETestClient.Event] = []
            while seen.filter({ $0.name == "delta" }).count < 2, let event = try await stream.next() {
                seen.append(event)
            }
            let turnID = try #require(stream.headers.first(name: "X-Turn-Id"))
            let conversationID = try #require(seen.first?.data["conversation_id"] as? String)
            let list = try await gateway.call(
                .GET, "/v1/conversations?\(Self.identity())", headers: GatewayHarness.keyHeader)
            let listed = try #require(list.array.first { $0["id"] as? String == conversationID })
            #expect((listed["turn"] as? [String: Any])?["turn_id"] as? String == turnID)
            let messages = try await gateway.call(
                .GET, "/v1/conversations/\(conversationID)/messages?\(Self.identity())",
                headers: GatewayHarness.keyHeader)
            let running = messages.array.filter { $0["turn_id"] as? String == turnID }
            #expect(running.map { $0["role"] as? String } == ["user", "assistant"])
            #expect(running.allSatisfy { $0["status"] as? String == "streaming" })
            #expect((running.last?["content"] as? String)?.hasPrefix("tok1") == true)
            let taskID = try #require(seen.first?.data["task_id"] as? String)
            let stop = try await gateway.call(
                .POST, "/v1/chat/\(taskID)/stop", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1"])
            #expect(stop.status == 200)
            #expect(try await stream.readAll().last?.data["stopped"] as? Bool == true)
            // The client has `done` before the turn's last write; once that is done, no message is in progress.
            let registry = try #require(gateway.app.gracefulShutdown?.streams)
            try await gateway.waitFor("the turn to leave the process") { registry.turn(turnID) == nil }
            let after = try await gateway.call(
                .GET, "/v1/conversations/\(conversationID)/messages?\(Self.identity())",
                headers: GatewayHarness.keyHeader)
            #expect(after.array.allSatisfy { $0["turn_id"] == nil })
        }
    }

    /// A turn whose process died: recovered from Dify's finished answer, or interrupted once Dify has none.
    @Test func orphanedTurnsAreRecovered() async throws {
        try await GatewayHarness.with(adjust: { $0.turnLease = .seconds(1) }) { gateway in
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi"])
            let turnID = try #require(reply.headers.first(name: "X-Turn-Id"))
            let messageID = try #require(reply.object["message_id"] as? String)
            // As a process killed mid-answer leaves it.
            try await gateway.sql.update(StoredMessage.schema).set("turn_status", to: "streaming")
                .set("turn_holder", to: "dead-process").where("message_id", .equal, "\(messageID)_user").run()
            try await gateway.sql.update(StoredMessage.schema).set("status", to: "streaming").set("content", to: "")
                .where("message_id", .equal, "\(messageID)_assistant").run()
            // A question Dify never named, asked long ago.
            let stale = MessageWrite(
                messageID: "local-stale", conversationID: nil, systemID: "drillquiz", userID: "u1", role: "user",
                content: "lost", status: .pending, createdAt: Date(timeIntervalSinceNow: -86_400),
                updatedAt: Date(timeIntervalSinceNow: -86_400),
                turn: .init(status: .accepted, holder: "dead-process"))
            try await gateway.sql.insert(into: StoredMessage.schema).model(stale, nilEncodingStrategy: .asNil).run()
            let staleID = stale.id.uuidString.lowercased()

            func status(_ id: String) async throws -> [String: Any] {
                try await gateway.call(.GET, "/v1/turns/\(id)?\(Self.identity())", headers: GatewayHarness.keyHeader)
                    .object
            }
            try await gateway.waitFor("both turns recovered") {
                let recovered = try await status(turnID)["status"] as? String == "completed"
                let interrupted = try await status(staleID)["status"] as? String == "interrupted"
                return recovered && interrupted
            }
            #expect(try await status(turnID)["text"] as? String == "Echo: hi")
            let answer = try #require(
                try await gateway.messages(system: "drillquiz", user: "u1").first { $0.role == "assistant" })
            #expect(answer.status == .complete && answer.content == "Echo: hi")
        }
    }
}
