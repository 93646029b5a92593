import NIOConcurrencyHelpers
import NIOCore
import Testing
import Vapor

@testable import ChatGateway

@Suite("Stream session: writing to the client", .timeLimit(.minutes(1)))
struct ChatStreamSessionTests {
    func session() -> ChatStreamSession {
        ChatStreamSession(caller: CallerIdentity(systemID: "drillquiz", userID: "user-1"))
    }

    /// Events published before the response starts are written first, in order, then the end.
    @Test func queuedEventsGoOutInOrderThenTheEnd() async throws {
        let session = session(), client = RecordingWriter()
        session.publish(.start(conversationID: "c", messageID: "m", taskID: "t"))
        session.publish(.delta("Hel"))
        session.publish(.delta("lo"))
        session.publish(
            .done(conversationID: "c", messageID: "m", answer: "Hello", metadata: .object([:]), stopped: false))
        session.finish()
        await session.write(to: client, keepAlive: .seconds(10))
        let text = client.text
        #expect(client.ended)
        #expect(
            text.components(separatedBy: "event: ").dropFirst().map { String($0.prefix { $0 != "\n" }) } == [
                "start", "delta", "done",
            ])
        #expect(text.contains(#""text":"Hello""#))
    }

    /// A client slow to take a write gets the deltas published meanwhile as one merged delta, not a queue of them.
    @Test func deltasMergeBehindASlowClient() async throws {
        let session = session(), client = RecordingWriter(holdFirstWrite: true)
        let writing = Task { await session.write(to: client, keepAlive: .seconds(10)) }
        session.publish(.delta("a"))
        try await client.waitForWrites(1)
        for piece in ["b", "c", "d"] { session.publish(.delta(piece)) }
        client.release()
        try await client.waitForWrites(2)
        session.finish()
        await writing.value
        #expect(client.writes.count == 2)
        #expect(client.writes[1].contains(#""text":"bcd""#))
        #expect(client.writes[1].components(separatedBy: "event: delta").count == 2)
    }

    /// Silence gets a keep-alive comment every interval; events in quick succession get none.
    @Test func keepAlivesFillSilenceOnly() async throws {
        let session = session(), client = RecordingWriter()
        let writing = Task { await session.write(to: client, keepAlive: .milliseconds(300)) }
        for index in 0..<30 {
            session.publish(.replace("text \(index)"))
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(!client.text.contains(": keep-alive"))
        try await Task.sleep(for: .milliseconds(1_000))
        session.finish()
        await writing.value
        let keepAlives = client.text.components(separatedBy: ": keep-alive").count - 1
        #expect((2...4).contains(keepAlives), "\(keepAlives) keep-alives in 1 s at 300 ms")
        #expect(client.ended)
    }

    /// While a write to a slow client is in progress, no keep-alive piles up behind it.
    @Test func noKeepAliveBehindAWriteInProgress() async throws {
        let session = session(), client = RecordingWriter(holdFirstWrite: true)
        let writing = Task { await session.write(to: client, keepAlive: .milliseconds(50)) }
        session.publish(.delta("a"))
        try await client.waitForWrites(1)
        try await Task.sleep(for: .milliseconds(500))
        client.release()
        session.finish()
        await writing.value
        #expect(client.writes.count <= 2, "writes after the held one: \(client.writes.dropFirst())")
    }

    /// A client that went away stops the writing; the relay's later events are dropped, and finishing still works.
    @Test func aGoneClientEndsTheWritingOnly() async throws {
        let session = session(), client = RecordingWriter(failWrites: true)
        let finished = NIOLockedValueBox(false)
        session.onFinish { finished.withLockedValue { $0 = true } }
        let writing = Task { await session.write(to: client, keepAlive: .seconds(10)) }
        session.publish(.delta("a"))
        await writing.value
        for _ in 0..<1_000 { session.publish(.delta(String(repeating: "x", count: 100))) }
        session.finish()
        for _ in 0..<100 where !finished.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(finished.withLockedValue { $0 })
        #expect(client.errored)
    }
}

/// Stands in for Vapor's response body writer: records each write; can hold the first one (a slow client) or
/// fail every write (a client that went away).
final class RecordingWriter: AsyncBodyStreamWriter, Sendable {
    private struct State {
        var writes: [String] = []
        var ended = false
        var errored = false
        var released = false
    }

    private let state = NIOLockedValueBox(State())
    private let holdFirstWrite: Bool
    private let failWrites: Bool

    init(holdFirstWrite: Bool = false, failWrites: Bool = false) {
        self.holdFirstWrite = holdFirstWrite
        self.failWrites = failWrites
    }

    var writes: [String] { state.withLockedValue { $0.writes } }
    var text: String { writes.joined() }
    var ended: Bool { state.withLockedValue { $0.ended } }
    var errored: Bool { state.withLockedValue { $0.errored } }
    func release() { state.withLockedValue { $0.released = true } }

    func write(_ result: BodyStreamResult) async throws {
        switch result {
        case .buffer(let buffer):
            if failWrites { throw ClientGone() }
            let first = state.withLockedValue { state in
                state.writes.append(String(buffer: buffer))
                return state.writes.count == 1
            }
            if first && holdFirstWrite {
                while !state.withLockedValue({ $0.released }) { try await Task.sleep(for: .milliseconds(5)) }
            }
        case .end:
            state.withLockedValue { $0.ended = true }
        case .error:
            state.withLockedValue { $0.errored = true }
        }
    }

    /// Waits (up to 5 s) until `count` writes were made.
    func waitForWrites(_ count: Int) async throws {
        for _ in 0..<500 where writes.count < count { try await Task.sleep(for: .milliseconds(10)) }
        #expect(writes.count >= count)
    }

    struct ClientGone: Error {}
}
