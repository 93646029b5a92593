import NIOConcurrencyHelpers
import NIOCore
import Vapor

/// One streaming chat as its client sees it: who asked, its Dify task (for stop), and the events waiting to be
/// written to the client.
///
/// The relay reading Dify never waits for the client: while a write to the client is in progress, events queue here
/// and consecutive text deltas merge into one, so a slow client costs at most the answer's size in memory (which is
/// stored anyway) and gets bigger deltas, never an unbounded queue. Once the client is gone, events are dropped and
/// the relay carries on.
final class ChatStreamSession: Sendable {
    /// Which API the client speaks: the gateway's own events, or Dify's (`/dify/v1`).
    enum Wire: Sendable { case gateway, dify }

    let caller: CallerIdentity
    let wire: Wire
    private let state = NIOLockedValueBox(State())

    private struct State {
        var taskID: String?
        var stopRequested = false
        var queued: [ChatStreamEvent] = []
        var keepAliveDue = false
        var writing = false
        var lastWrite = ContinuousClock.now
        var relayFinished = false
        var clientGone = false
        var writerWaiting: CheckedContinuation<Void, Never>?
        var finishHandlers: [@Sendable () async -> Void] = []

        var hasOutput: Bool { !queued.isEmpty || keepAliveDue || relayFinished }

        /// The writer, if it waits and there is something for it: it is to be resumed (outside the lock).
        mutating func wakeWriter() -> CheckedContinuation<Void, Never>? {
            guard hasOutput, let waiting = writerWaiting else { return nil }
            writerWaiting = nil
            return waiting
        }
    }

    init(caller: CallerIdentity, wire: Wire = .gateway) {
        self.caller = caller
        self.wire = wire
    }

    var taskID: String? { state.withLockedValue { $0.taskID } }
    var stopRequested: Bool { state.withLockedValue { $0.stopRequested } }
    /// The client went away before the relay finished (the answer is stored all the same).
    var clientGone: Bool { state.withLockedValue { $0.clientGone } }
    func setTaskID(_ id: String?) { state.withLockedValue { $0.taskID = id } }
    func requestStop() { state.withLockedValue { $0.stopRequested = true } }

    /// Runs `handler` once the relay is done, at once if it already is (it may finish before anyone asks).
    func onFinish(_ handler: @escaping @Sendable () async -> Void) {
        let runNow = state.withLockedValue { state -> Bool in
            if state.relayFinished { return true }
            state.finishHandlers.append(handler)
            return false
        }
        if runNow { Task { await handler() } }
    }

    // MARK: The relay's side

    func publish(_ event: ChatStreamEvent) {
        let writer = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard !state.clientGone, !state.relayFinished else { return nil }
            if case .delta(let text) = event, case .delta(let earlier)? = state.queued.last {
                state.queued[state.queued.count - 1] = .delta(earlier + text)
            } else {
                state.queued.append(event)
            }
            return state.wakeWriter()
        }
        writer?.resume()
    }

    /// The relay is done: what is queued goes out, then the response ends.
    func finish() {
        let (writer, handlers) = state.withLockedValue {
            state -> (CheckedContinuation<Void, Never>?, [@Sendable () async -> Void]) in
            guard !state.relayFinished else { return (nil, []) }
            state.relayFinished = true
            defer { state.finishHandlers = [] }
            return (state.wakeWriter(), state.finishHandlers)
        }
        writer?.resume()
        for handler in handlers { Task { await handler() } }
    }

    // MARK: The client's side

    /// Writes the stream to the client until the relay finishes or the client goes away, with a keep-alive comment
    /// whenever `keepAlive` passes with nothing written.
    func write(to writer: any AsyncBodyStreamWriter, keepAlive: Duration) async {
        let failure: (any Error)? = await withDiscardingTaskGroup { group in
            group.addTask { await self.sendKeepAlives(every: keepAlive) }
            defer { group.cancelAll() }
            while let output = await nextOutput() {
                do {
                    try await writer.write(.buffer(output))
                    wrote()
                } catch {
                    clientLeft()
                    return error
                }
            }
            return nil
        }
        // Vapor's writer must be ended either way.
        try? await writer.write(failure.map(BodyStreamResult.error) ?? .end)
    }

    /// The next bytes to write (queued events, or a keep-alive), once there are any; nil when the relay is done
    /// and everything was written.
    private func nextOutput() async -> ByteBuffer? {
        while true {
            let output = state.withLockedValue { state -> ByteBuffer?? in
                if !state.queued.isEmpty {
                    var buffer = ByteBuffer()
                    for event in state.queued { event.write(into: &buffer) }
                    state.queued.removeAll(keepingCapacity: true)
                    state.keepAliveDue = false
                    state.writing = true
                    return buffer
                }
                if state.keepAliveDue {
                    state.keepAliveDue = false
                    state.writing = true
                    return ByteBuffer(string: wire == .dify ? DifyWire.ping : ChatStreamEvent.keepAlive)
                }
                return state.relayFinished ? .some(nil) : nil
            }
            if let output { return output }
            await withCheckedContinuation { continuation in
                let ready = state.withLockedValue { state -> Bool in
                    if state.hasOutput { return true }
                    state.writerWaiting = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        }
    }

    private func wrote() {
        state.withLockedValue { state in
            state.writing = false
            state.lastWrite = .now
        }
    }

    /// The client went away: stop queueing for it. The relay keeps reading Dify and stores the whole answer.
    private func clientLeft() {
        state.withLockedValue { state in
            state.clientGone = true
            state.queued.removeAll()
        }
    }

    /// Asks for a keep-alive once nothing was written for a whole interval. While a write to a slow client is still
    /// in progress, none: it looks again an interval later rather than at once (it would spin).
    private func sendKeepAlives(every interval: Duration) async {
        var due = state.withLockedValue { $0.lastWrite } + interval
        while true {
            do { try await Task.sleep(until: due, clock: .continuous) } catch { return }
            let now = ContinuousClock.now
            let (writer, next) = state.withLockedValue {
                state -> (CheckedContinuation<Void, Never>?, ContinuousClock.Instant) in
                if state.writing || state.clientGone { return (nil, now + interval) }
                guard now - state.lastWrite >= interval else { return (nil, state.lastWrite + interval) }
                state.keepAliveDue = true
                state.lastWrite = now
                return (state.wakeWriter(), now + interval)
            }
            writer?.resume()
            due = next
        }
    }
}
