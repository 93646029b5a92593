import NIOConcurrencyHelpers

/// The streams this process is reading: by task id (for stop), and as tasks to wait for on shutdown,
/// so a SIGTERM lets answers in flight finish and be stored.
actor ChatStreamRegistry {
    /// Behind a lock, not the actor: a stream registers its task id synchronously, before the client sees that id
    /// (so a stop sent right after the `start` event finds it).
    private nonisolated let sessions = NIOLockedValueBox<[String: ChatStreamSession]>([:])
    private var running: [Int: Task<Void, Never>] = [:]
    /// Blocking chats waiting for Dify or the database: shutdown waits for them too.
    private var blockingChats = 0
    private var nextID = 0
    /// Streams running per Dify user, counted from before Dify is asked until the answer is read to its end.
    private var streamsPerUser: [String: Int] = [:]

    /// Runs a stream's `work` as a task of its own, outside the request that started it: a client that goes away
    /// does not cancel it.
    func launch(_ work: @escaping @Sendable () async -> Void) {
        let id = nextID
        nextID += 1
        running[id] = Task { [weak self] in
            await work()
            await self?.finished(id)
        }
    }

    nonisolated func register(taskID: String, session: ChatStreamSession) {
        sessions.withLockedValue { $0[taskID] = session }
    }
    nonisolated func unregister(taskID: String) { sessions.withLockedValue { $0[taskID] = nil } }
    nonisolated func session(forTask taskID: String) -> ChatStreamSession? { sessions.withLockedValue { $0[taskID] } }
    var activeCount: Int { running.count }

    /// Streams running in this process, under `DIFY_MAX_CONNECTIONS`.
    private var streamsInAll = 0

    enum StreamSlot: Equatable {
        case reserved
        /// The user has `limit` running.
        case userFull
        /// The process has `totalLimit` running.
        case processFull
    }

    /// Counts a stream against its user's cap and the process's before it starts.
    func reserveStream(for user: String, limit: Int?, totalLimit: Int) -> StreamSlot {
        let running = streamsPerUser[user, default: 0]
        if let limit, running >= limit { return .userFull }
        guard streamsInAll < totalLimit else { return .processFull }
        streamsPerUser[user] = running + 1
        streamsInAll += 1
        return .reserved
    }

    /// Gives back a slot of `reserveStream`; users with none running are forgotten, so memory stays bounded.
    func releaseStream(for user: String) {
        let remaining = streamsPerUser[user, default: 1] - 1
        streamsPerUser[user] = remaining > 0 ? remaining : nil
        streamsInAll -= 1
    }

    /// Runs a blocking chat, counted so that shutdown waits for its answer to be stored.
    func blockingChat<T: Sendable>(_ work: () async throws -> T) async rethrows -> T {
        blockingChats += 1
        defer { blockingChats -= 1 }
        return try await work()
    }

    /// Waits for every running stream and blocking chat, up to `deadline`; true when none is left.
    func drain(until deadline: ContinuousClock.Instant) async -> Bool {
        while !running.isEmpty || blockingChats > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return running.isEmpty && blockingChats == 0
    }

    /// Cancels every running stream: each relay stores its answer as far as it got, marked stopped, and tells
    /// its client the gateway is restarting. Returns how many there were.
    func interruptAll() -> Int {
        for task in running.values { task.cancel() }
        return running.count
    }

    private func finished(_ id: Int) { running[id] = nil }
}
