import NIOConcurrencyHelpers
import NIOCore
import Vapor

/// One streaming chat as its client sees it: who asked, its Dify task (for stop), and the writing of events
/// to the client's response.
///
/// The relay reading Dify never waits for the client: when a write to the client is still in progress, events
/// queue here and consecutive text deltas merge into one, so a slow client costs at most the answer's size in
/// memory (which is stored anyway) and gets bigger deltas, never an unbounded queue. Once the client is gone,
/// events are dropped and the relay carries on. A keep-alive comment goes out whenever `keepAlive` passes with
/// nothing written.
///
/// Event handling runs on `eventLoop`, the loop of the client's connection (and of the connection to Dify), so
/// relaying an event is a plain call, not a hand-off between threads.
final class ChatStreamSession: @unchecked Sendable {
    // The stored `var`s are touched on `eventLoop` only; `shared` is read from anywhere (stop, admission).
    // That split is what makes `@unchecked Sendable` sound.
    let caller: CallerIdentity
    let eventLoop: any EventLoop
    private let shared = NIOLockedValueBox(Shared())

    private var pending: [ChatStreamEvent] = []
    private var writer: (any BodyStreamWriter)?
    private var keepAliveInterval = TimeAmount.seconds(15)
    private var writing = false
    private var readerDone = false
    private var clientGone = false
    private var ended = false
    /// When the client was last written to (events or a keep-alive).
    private var lastWrite = NIODeadline.now()
    /// One timer per stream, not one per event: it looks when an interval since the last write may have passed.
    private var keepAliveTimer: Scheduled<Void>?
    /// How many times the keep-alive timer fired (at most once per interval; tests check that it does not spin).
    private(set) var keepAliveChecks = 0

    private struct Shared {
        var taskID: String?
        var stopRequested = false
        var finished = false
        var finishHandlers: [@Sendable () async -> Void] = []
    }

    init(caller: CallerIdentity, eventLoop: any EventLoop) {
        self.caller = caller
        self.eventLoop = eventLoop
    }

    var taskID: String? { shared.withLockedValue { $0.taskID } }
    var stopRequested: Bool { shared.withLockedValue { $0.stopRequested } }
    func setTaskID(_ id: String?) { shared.withLockedValue { $0.taskID = id } }
    func requestStop() { shared.withLockedValue { $0.stopRequested = true } }

    /// Runs `handler` once the relay is done, at once if it already is (it may finish before anyone asks).
    func onFinish(_ handler: @escaping @Sendable () async -> Void) {
        let runNow = shared.withLockedValue { state -> Bool in
            if state.finished { return true }
            state.finishHandlers.append(handler)
            return false
        }
        if runNow { Task { await handler() } }
    }

    // MARK: On the event loop

    /// The response has started: events go to `writer` from now on (those queued first at once).
    func attach(_ writer: any BodyStreamWriter, keepAlive: Duration) {
        eventLoop.preconditionInEventLoop()
        self.writer = writer
        keepAliveInterval = .init(keepAlive)
        lastWrite = .now()
        scheduleKeepAlive(at: lastWrite + keepAliveInterval)
        flush()
    }

    func publish(_ event: ChatStreamEvent) {
        eventLoop.assertInEventLoop()
        guard !clientGone, !readerDone else { return }
        if case .delta(let text) = event, case .delta(let earlier)? = pending.last {
            pending[pending.count - 1] = .delta(earlier + text)
        } else {
            pending.append(event)
        }
        flush()
    }

    /// The relay is done: what is queued goes out, then the response ends.
    func finish() {
        eventLoop.assertInEventLoop()
        guard !readerDone else { return }
        readerDone = true
        flush()
        let handlers = shared.withLockedValue { state in
            state.finished = true
            defer { state.finishHandlers = [] }
            return state.finishHandlers
        }
        for handler in handlers { Task { await handler() } }
    }

    private func flush() {
        guard let writer, !writing, !clientGone, !ended else { return }
        if !pending.isEmpty {
            var buffer = ByteBufferAllocator().buffer(capacity: 256)
            for event in pending { event.write(into: &buffer) }
            pending.removeAll(keepingCapacity: true)
            write(buffer, to: writer)
        } else if readerDone {
            ended = true
            keepAliveTimer?.cancel()
            Self.send(.end, to: writer, promise: nil)
        }
    }

    private func write(_ buffer: ByteBuffer, to writer: any BodyStreamWriter) {
        writing = true
        lastWrite = .now()
        let written = eventLoop.makePromise(of: Void.self)
        written.futureResult.assumeIsolated().whenComplete { [self] result in
            writing = false
            switch result {
            case .success: flush()
            case .failure(let error): clientDisconnected(error)
            }
        }
        Self.send(.buffer(buffer), to: writer, promise: written)
    }

    /// The client went away: stop queueing for it. The relay keeps reading Dify and stores the whole answer.
    private func clientDisconnected(_ error: any Error) {
        guard !clientGone else { return }
        clientGone = true
        pending.removeAll()
        keepAliveTimer?.cancel()
        if !ended, let writer { Self.send(.error(error), to: writer, promise: nil) }
    }

    /// Vapor's writer must be called on its connection's loop, which is this session's (the request's loop);
    /// should a server ever start the body elsewhere, the write hops there rather than trip Vapor's checks.
    private static func send(_ result: BodyStreamResult, to writer: any BodyStreamWriter, promise: EventLoopPromise<Void>?) {
        if writer.eventLoop.inEventLoop {
            writer.write(result, promise: promise)
        } else {
            writer.eventLoop.execute { writer.write(result, promise: promise) }
        }
    }

    private func scheduleKeepAlive(at deadline: NIODeadline) {
        guard !clientGone, !ended else { return }
        keepAliveTimer = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in keepAliveDue() }
    }

    /// A keep-alive once nothing was written for a whole interval. While a write to a slow client is still in
    /// progress, none: the timer looks again an interval later rather than at once (it would spin).
    private func keepAliveDue() {
        keepAliveChecks += 1
        guard let writer, !clientGone, !ended else { return }
        let now = NIODeadline.now()
        if writing { return scheduleKeepAlive(at: now + keepAliveInterval) }
        if now - lastWrite >= keepAliveInterval { write(ByteBuffer(string: ChatStreamEvent.keepAlive), to: writer) }
        scheduleKeepAlive(at: lastWrite + keepAliveInterval)   // `write` just moved `lastWrite` to now
    }
}
