/// The hand-off between the task reading Dify and the task writing to the client.
///
/// The reader never waits for the client: events queue here, and consecutive text deltas merge into one,
/// so a slow client costs at most the answer's size in memory (which is stored anyway) and gets bigger
/// deltas, never an unbounded queue. Once the client is gone, events are dropped and the reader carries on.
actor ChatStreamSession {
    let caller: CallerIdentity
    private var pending: [ChatStreamEvent] = []
    private var finished = false
    private var clientGone = false
    private var waiter: CheckedContinuation<Void, Never>?
    /// When the writer was last handed something (events or a keep-alive).
    private var lastHandedOut = ContinuousClock.now
    /// One timer per stream, not one per wait: a wait per event each with a task and a timer of its own was
    /// a measurable share of the CPU per relayed token with a thousand streams open.
    private var keepAlives: Task<Void, Never>?
    /// How many times the keep-alive timer fired (at most one per interval; tests check that it does not spin).
    private(set) var keepAliveChecks = 0
    private var finishHandlers: [@Sendable () async -> Void] = []
    private(set) var taskID: String?
    private(set) var stopRequested = false

    init(caller: CallerIdentity) { self.caller = caller }

    func publish(_ event: ChatStreamEvent) {
        guard !clientGone, !finished else { return }
        if case .delta(let text) = event, case .delta(let earlier)? = pending.last {
            pending[pending.count - 1] = .delta(earlier + text)
        } else {
            pending.append(event)
        }
        wake()
    }

    func setTaskID(_ id: String?) { taskID = id }

    func requestStop() { stopRequested = true }

    /// The reader is done; the writer drains what is left and ends the response.
    func finish() {
        finished = true
        keepAlives?.cancel()
        wake()
        let handlers = finishHandlers
        finishHandlers = []
        for handler in handlers { Task { await handler() } }
    }

    /// Runs `handler` once the reader is done, at once if it already is (it may finish before anyone asks).
    func onFinish(_ handler: @escaping @Sendable () async -> Void) {
        if finished { Task { await handler() } } else { finishHandlers.append(handler) }
    }

    /// The client went away: stop queueing for it.
    func clientDisconnected() {
        clientGone = true
        keepAlives?.cancel()
        pending.removeAll()
    }

    /// The next events for the client; empty when `keepAlive` passed with nothing to send, nil when the stream is over.
    func nextBatch(keepAlive: Duration) async -> [ChatStreamEvent]? {
        if keepAlives == nil, !finished { startKeepAlives(every: keepAlive) }
        if pending.isEmpty && !finished {
            await withCheckedContinuation { waiter = $0 }
        }
        lastHandedOut = .now
        // Woken with nothing to send and not finished: the keep-alive timer's doing.
        if pending.isEmpty { return finished ? nil : [] }
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    /// Wakes the writer with a keep-alive whenever `interval` has passed since it was last handed anything.
    private func startKeepAlives(every interval: Duration) {
        lastHandedOut = .now
        keepAlives = Task { [weak self] in
            while let due = await self?.keepAliveDue(after: interval) {
                guard (try? await Task.sleep(until: due, clock: .continuous)) != nil else { return }
                await self?.wakeIfQuiet(for: interval)
            }
        }
    }

    /// When the next keep-alive is due; nil once the stream is over.
    private func keepAliveDue(after interval: Duration) -> ContinuousClock.Instant? {
        finished || clientGone ? nil : lastHandedOut + interval
    }

    private func wakeIfQuiet(for interval: Duration) {
        keepAliveChecks += 1
        let now = ContinuousClock.now
        guard now - lastHandedOut >= interval else { return }
        if waiter != nil {
            wake()
        } else {
            lastHandedOut = now   // the writer is still writing to a slow client: look again an interval later
        }
    }

    private func wake() {
        waiter?.resume()
        waiter = nil
    }
}
