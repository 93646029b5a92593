import NIOConcurrencyHelpers
import NIOCore
import Testing
import Vapor

@testable import ChatGateway

@Suite("Turn log and its readers: writing events to a client", .hangLimit)
struct TurnStreamTests {
    static let ids = TurnIDs(conversationID: "c", messageID: "m", taskID: "t")
    static func delta(_ text: String) -> TurnEvent { .upstream(.answerDelta(DifyStreamIDs(), text: text)) }
    static let done = TurnEvent.ended(.completed(ids, answer: "Hello", metadata: .object([:]), stopped: false))

    static func reader(_ log: TurnLog, after: Int = 0, keepAlive: Duration = .seconds(10)) -> TurnStream {
        TurnStream(source: log, encoder: GatewayEventEncoder(turnID: "turn-1"), after: after, keepAlive: keepAlive)
    }

    static func names(_ text: String) -> [String] {
        text.components(separatedBy: "event: ").dropFirst().map { String($0.prefix { $0 != "\n" }) }
    }

    /// Events logged before the reader starts are written first, in order, each with its id, after `retry:`.
    @Test func loggedEventsGoOutInOrderWithIDsThenTheEnd() async throws {
        let log = TurnLog(), client = RecordingWriter()
        log.append(.started(Self.ids))
        log.append(Self.delta("Hel"))
        log.append(.upstream(.answerDelta(DifyStreamIDs(), text: "lo")))
        log.append(.upstream(.messageEnd(DifyStreamIDs(), metadata: nil)))
        log.append(Self.done)
        log.close()
        await Self.reader(log).write(to: client)
        let text = client.text
        #expect(client.ended)
        #expect(text.hasPrefix("retry: 1000\nid: 1\nevent: start\n"), "retry: in the first event's block")
        #expect(Self.names(text) == ["start", "delta", "done"])
        #expect(
            text.contains("id: 1\nevent: start") && text.contains("id: 3\nevent: delta")
                && text.contains("id: 5\nevent: done"))
        #expect(text.contains(#""turn_id":"turn-1""#))
        #expect(text.contains(#""text":"Hello""#))
    }

    /// A reader with nothing to send yet sends a keep-alive at once: the response head goes with it.
    @Test func theHeadLeavesBeforeTheFirstEvent() async throws {
        let log = TurnLog(), client = RecordingWriter()
        let writing = Task { await Self.reader(log).write(to: client) }
        try await client.waitForWrites(1)
        #expect(client.writes.first == ChatStreamEvent.keepAlive)
        log.append(.started(Self.ids))
        log.append(Self.done)
        log.close()
        await writing.value
        #expect(client.writes.dropFirst().first?.hasPrefix("retry: 1000\nid: 1\n") == true)
    }

    /// A reader resuming after an id gets only what followed it.
    @Test func aReaderResumesAfterAnID() async throws {
        let log = TurnLog(), client = RecordingWriter()
        for event in [.started(Self.ids), Self.delta("a"), Self.delta("b"), Self.done] { log.append(event) }
        log.close()
        await Self.reader(log, after: 2).write(to: client)
        #expect(Self.names(client.text) == ["delta", "done"])
        #expect(client.text.contains("id: 3\nevent: delta") && client.text.contains(#""text":"b""#))
    }

    /// Two readers of one log each get every event, whatever the other does.
    @Test func twoReadersSeeTheSameEvents() async throws {
        let log = TurnLog(), first = RecordingWriter(), second = RecordingWriter()
        async let one: Void = Self.reader(log).write(to: first)
        async let two: Void = Self.reader(log).write(to: second)
        for event in [.started(Self.ids), Self.delta("a"), Self.delta("b"), Self.done] { log.append(event) }
        log.close()
        _ = await (one, two)
        #expect(Self.names(first.text).first == "start" && Self.names(first.text).last == "done")
        #expect(
            first.text.replacingOccurrences(of: "\n", with: "").contains("ab") || first.text.contains(#""text":"b""#))
        #expect(Self.names(second.text).last == "done")
    }

    /// A client slow to take a write gets the deltas logged meanwhile as one merged delta, with the last id.
    @Test func deltasMergeBehindASlowClient() async throws {
        let log = TurnLog(), client = RecordingWriter(holdFirstWrite: true)
        let writing = Task { await Self.reader(log).write(to: client) }
        log.append(Self.delta("a"))
        try await client.waitForWrites(1)
        for piece in ["b", "c", "d"] { log.append(Self.delta(piece)) }
        client.release()
        try await client.waitForWrites(2)
        log.close()
        await writing.value
        let later = client.writes.dropFirst().joined()
        #expect(later.contains(#""text":"bcd""#))
        #expect(later.contains("id: 4\n"))
        #expect(later.components(separatedBy: "event: delta").count == 2)
    }

    /// Silence gets a keep-alive comment every interval; events in quick succession get none.
    @Test func keepAlivesFillSilenceOnly() async throws {
        // Events 10 ms apart under a 5 s interval: only the one sent at once, so the response head leaves. (A short
        // interval would measure how promptly a loaded machine wakes the test up.)
        let flowing = TurnLog(), busy = RecordingWriter()
        let reading = Task { await Self.reader(flowing, keepAlive: .seconds(5)).write(to: busy) }
        for index in 0..<30 {
            flowing.append(.upstream(.answerReplace(DifyStreamIDs(), text: "text \(index)")))
            try await Task.sleep(for: .milliseconds(10))
        }
        flowing.close()
        await reading.value
        #expect(Self.keepAlives(busy) <= 1)
        // Silence: keep-alives go on coming.
        let silent = TurnLog(), idle = RecordingWriter()
        let waiting = Task { await Self.reader(silent, keepAlive: .milliseconds(100)).write(to: idle) }
        try await idle.waitForWrites(4)
        #expect(Self.keepAlives(idle) >= 4)
        silent.close()
        await waiting.value
        #expect(idle.ended)
    }

    static func keepAlives(_ client: RecordingWriter) -> Int {
        client.text.components(separatedBy: ": keep-alive").count - 1
    }

    /// While a write to a slow client is in progress, no keep-alive piles up behind it.
    @Test func noKeepAliveBehindAWriteInProgress() async throws {
        let log = TurnLog(), client = RecordingWriter(holdFirstWrite: true)
        let writing = Task { await Self.reader(log, keepAlive: .milliseconds(50)).write(to: client) }
        log.append(Self.delta("a"))
        try await client.waitForWrites(1)
        try await Task.sleep(for: .milliseconds(500))
        client.release()
        log.close()
        await writing.value
        #expect(client.writes.count <= 2, "writes after the held one: \(client.writes.dropFirst())")
    }

    /// A client that went away stops its reader only; the log takes more events and the turn still finishes.
    @Test func aGoneClientEndsItsReaderOnly() async throws {
        let turn = RunningTurn(id: "turn-1", caller: CallerIdentity(systemID: "drillquiz", userID: "user-1"))
        let client = RecordingWriter(failWrites: true)
        let finished = NIOLockedValueBox(false)
        turn.onFinish { finished.withLockedValue { $0 = true } }
        turn.log.append(Self.delta("a"))
        await TurnStream(
            source: turn.log, encoder: GatewayEventEncoder(turnID: turn.id), after: 0, keepAlive: .seconds(10),
            onClientGone: { turn.clientLeft() }
        ).write(to: client)
        for _ in 0..<1_000 { turn.log.append(Self.delta(String(repeating: "x", count: 100))) }
        turn.finish()
        let deadline = ContinuousClock.now + .seconds(30)
        while !finished.withLockedValue({ $0 }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(finished.withLockedValue { $0 })
        #expect(client.errored)
        #expect(turn.clientGone)
        #expect(turn.log.textSoFar.text.count == 1 + 100_000)
    }

    /// On Dify's wire a catch-up replaces the text a reader has (`message_replace`), and is a `message` for one
    /// that has none.
    @Test func aDifyReaderCatchesUpByReplacingItsText() async throws {
        var encoder = DifyEventEncoder()
        var buffer = ByteBuffer()
        _ = encoder.encode(
            [.init(id: 1, event: .sync(text: "all so far", ids: Self.ids))], into: &buffer)
        #expect(String(buffer: buffer).contains(#""event":"message""#))
        buffer.clear()
        _ = encoder.encode(
            [.init(id: 5, event: .sync(text: "all so far, and more", ids: Self.ids))], into: &buffer)
        #expect(String(buffer: buffer).contains(#""event":"message_replace""#))
    }

    /// Dify's wire: each of Dify's events with its id, to the end of the log, and a made-up `message_end` only
    /// when the reader was not sent Dify's own.
    @Test func difyEventsKeepTheirIDsToTheEnd() async throws {
        let log = TurnLog(), client = RecordingWriter()
        log.append(.started(Self.ids))
        log.append(Self.delta("Hi"))
        log.append(.upstream(.messageEnd(DifyStreamIDs(messageID: "m"), metadata: nil)))
        log.append(Self.done)
        log.append(.upstream(.other(event: "tts_message_end", payload: .object(["event": .string("tts_message_end")]))))
        log.close()
        await TurnStream(source: log, encoder: DifyEventEncoder(), after: 0, keepAlive: .seconds(10)).write(to: client)
        let text = client.text
        #expect(!text.contains("id: 1\n") && text.contains("id: 2\ndata: ") && text.contains("id: 3\ndata: "))
        #expect(!text.contains("id: 4\n") && text.contains("id: 5\ndata: "))
        #expect(text.components(separatedBy: #""event":"message_end""#).count == 2)
        #expect(text.contains("tts_message_end"))
    }
}
