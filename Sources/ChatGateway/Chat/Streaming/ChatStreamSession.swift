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
    /// Counts the writer's waits, so a keep-alive timer wakes only the wait it was started for.
    private var waits = 0
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
        pending.removeAll()
    }

    /// The next events for the client; empty when `keepAlive` passed with nothing to send, nil when the stream is over.
    func nextBatch(keepAlive: Duration) async -> [ChatStreamEvent]? {
        if pending.isEmpty && !finished {
            waits += 1
            let wait = waits
            let timer = Task { [weak self] in
                // A cancelled timer (an event came first) must not wake anything: by now a later wait may be
                // parked, and waking it early would send a keep-alive, whose wait's timer is cancelled in turn…
                guard (try? await Task.sleep(for: keepAlive)) != nil else { return }
                await self?.keepAliveDue(for: wait)
            }
            await withCheckedContinuation { waiter = $0 }
            timer.cancel()
        }
        if pending.isEmpty { return finished ? nil : [] }
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }

    /// Wakes the wait `wait` if it is still the one parked.
    private func keepAliveDue(for wait: Int) {
        if wait == waits { wake() }
    }

    private func wake() {
        waiter?.resume()
        waiter = nil
    }
}
