/// The streams this process is reading: by task id (for stop), and as tasks to wait for on shutdown,
/// so a SIGTERM lets answers in flight finish and be stored.
actor ChatStreamRegistry {
    private var sessions: [String: ChatStreamSession] = [:]
    private var running: [Int: Task<Void, Never>] = [:]
    private var nextID = 0

    /// Runs `work` outside the request that started it: a client that goes away does not cancel it.
    func launch(_ work: @escaping @Sendable () async -> Void) {
        let id = nextID
        nextID += 1
        running[id] = Task { [weak self] in
            await work()
            await self?.finished(id)
        }
    }

    func register(taskID: String, session: ChatStreamSession) { sessions[taskID] = session }
    func unregister(taskID: String) { sessions[taskID] = nil }
    func session(forTask taskID: String) -> ChatStreamSession? { sessions[taskID] }
    var activeCount: Int { running.count }

    /// Waits for every running stream, up to `timeout`.
    func drain(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while !running.isEmpty, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func finished(_ id: Int) { running[id] = nil }
}
