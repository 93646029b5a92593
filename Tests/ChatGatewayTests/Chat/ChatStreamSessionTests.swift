import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import Vapor
@testable import ChatGateway

@Suite("Stream session: writing to the client")
struct ChatStreamSessionTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()

    func session() -> ChatStreamSession {
        ChatStreamSession(caller: CallerIdentity(systemID: "drillquiz", userID: "user-1"), eventLoop: loop)
    }

    /// Runs `body` on the session's loop, as the relay and Vapor do.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await loop.submit(body).get()
    }

    /// Waits (up to 5 s) until `condition`, read on the loop, holds.
    func eventually(_ condition: @escaping @Sendable () -> Bool) async throws {
        for _ in 0..<500 where try await !onLoop(condition) { try await Task.sleep(for: .milliseconds(10)) }
    }

    /// Events every 10 ms with a 300 ms keep-alive: no keep-alive between them, every event delivered, then the end.
    @Test func eventsInQuickSuccessionGetNoKeepAlives() async throws {
        let session = session(), client = RecordingClient(loop: loop)
        // Gaps are measured on the loop, where the timer runs: the test's own task may be resumed late.
        var last = try await onLoop { session.attach(client, keepAlive: .milliseconds(300)); return NIODeadline.now() }
        var longestGap = TimeAmount.zero
        for index in 0..<60 {
            try await Task.sleep(for: .milliseconds(10))
            let published = try await onLoop { session.publish(.replace("text \(index)")); return NIODeadline.now() }
            longestGap = max(longestGap, published - last)
            last = published
        }
        try await onLoop { session.finish() }
        try await eventually { client.ended }
        let text = try await onLoop { client.text }
        #expect(text.components(separatedBy: "event: replace").count - 1 == 60)
        // A machine too busy to publish within the interval would rightly get a keep-alive in a gap.
        if longestGap < .milliseconds(250) { #expect(!text.contains(": keep-alive"), "longest gap \(longestGap)") }
    }

    /// What the relay publishes before Vapor starts the response is written when it does.
    @Test func eventsBeforeTheResponseStartsAreWrittenWhenItDoes() async throws {
        let session = session(), client = RecordingClient(loop: loop)
        try await onLoop {
            session.publish(.start(conversationID: "c", messageID: "m", taskID: nil))
            session.publish(.delta("Hel"))
            session.publish(.delta("lo"))
            session.attach(client, keepAlive: .seconds(10))
        }
        let text = try await onLoop { client.text }
        #expect(text.hasPrefix("event: start\n"))
        #expect(text.contains(#""text":"Hello""#))
    }

    /// A client slower than the answer: one write in progress, the deltas behind it merge into one, and the
    /// keep-alive timer looks once per interval (it must not spin while the write is in progress).
    @Test func aSlowClientGetsMergedDeltasAndTheTimerDoesNotSpin() async throws {
        let session = session(), client = RecordingClient(loop: loop)
        // Times are taken on the loop: the test's own task may be resumed late on a busy machine.
        let attached = try await onLoop {
            client.holdWrites = true
            session.attach(client, keepAlive: .milliseconds(5))
            session.publish(.delta("a"))
            session.publish(.delta("b"))
            session.publish(.delta("c"))
            return NIODeadline.now()
        }
        try await Task.sleep(for: .milliseconds(400))
        let (writes, checks, elapsed) = try await onLoop { (client.writes.count, session.keepAliveChecks, NIODeadline.now() - attached) }
        #expect(writes == 1)
        // Once per 5 ms interval at most (80 in 400 ms); a timer whose next keep-alive stayed overdue fired
        // without pause (tens of thousands of times).
        #expect(checks <= Int(elapsed.nanoseconds / 5_000_000) + 10, "the keep-alive timer fired \(checks) times in \(elapsed)")
        try await onLoop { client.holdWrites = false; client.releaseHeldWrites() }
        try await eventually { client.writes.count >= 2 }
        #expect(try await onLoop { client.writes[1] }.contains(#""text":"bc""#))
        try await onLoop { session.finish() }
        try await eventually { client.ended }
    }

    @Test func aQuietStreamGetsKeepAlivesAtTheirPace() async throws {
        let session = session(), client = RecordingClient(loop: loop)
        let started = ContinuousClock.now
        try await onLoop {
            session.attach(client, keepAlive: .milliseconds(100))
            session.publish(.replace("hello"))
        }
        try await eventually { client.text.components(separatedBy: ": keep-alive").count - 1 >= 3 }
        #expect(ContinuousClock.now - started >= .milliseconds(300))
        try await onLoop { session.finish() }
    }

    /// A client that went away: later events are dropped, the response is failed, and whoever waits for the
    /// stream's end (the per-user stream slots) still hears of it.
    @Test func aGoneClientDropsEventsAndFinishStillRuns() async throws {
        let session = session(), client = RecordingClient(loop: loop)
        let finished = NIOLockedValueBox(false)
        session.onFinish { finished.withLockedValue { $0 = true } }
        try await onLoop {
            client.failWrites = true
            session.attach(client, keepAlive: .seconds(10))
            session.publish(.delta("lost"))
            session.publish(.delta("dropped"))
            session.finish()
        }
        try await eventually { client.failedWith != nil }
        #expect(try await onLoop { client.writes.count } == 1)
        for _ in 0..<100 where !finished.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(finished.withLockedValue { $0 })
    }
}

/// Stands in for Vapor's response body writer: records each write; can hold their completion (a slow client)
/// or fail them (a client that went away). Touched on its loop only.
final class RecordingClient: BodyStreamWriter, @unchecked Sendable {
    let eventLoop: any EventLoop
    var writes: [String] = []
    var ended = false
    var failedWith: (any Error)?
    var holdWrites = false
    var failWrites = false
    private var held: [EventLoopPromise<Void>] = []

    init(loop: any EventLoop) { eventLoop = loop }

    var text: String { writes.joined() }

    func write(_ result: BodyStreamResult, promise: EventLoopPromise<Void>?) {
        eventLoop.preconditionInEventLoop()
        switch result {
        case .buffer(let buffer):
            writes.append(String(buffer: buffer))
            if failWrites { promise?.fail(ChannelError.ioOnClosedChannel) }
            else if holdWrites { promise.map { held.append($0) } }
            else { promise?.succeed() }
        case .end:
            ended = true
            promise?.succeed()
        case .error(let error):
            failedWith = error
            promise?.succeed()
        }
    }

    func releaseHeldWrites() {
        let promises = held
        held = []
        for promise in promises { promise.succeed() }
    }
}
