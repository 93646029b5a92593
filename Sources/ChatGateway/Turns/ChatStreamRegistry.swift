import NIOConcurrencyHelpers

/// The turns running in this process, by turn id and by Dify task id, so that a reader, a duplicate request or
/// a stop finds them, and so that shutdown waits for their answers to be stored.
final class ChatStreamRegistry: Sendable {
    private struct State {
        var turns: [String: RunningTurn] = [:]
        var byTask: [String: RunningTurn] = [:]
        /// The tasks reading Dify for streams: shutdown may cancel them.
        var streamTasks: [String: Task<Void, Never>] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// Runs a stream's `work` as a task of its own, outside the request that started it: a client that goes away
    /// does not cancel it.
    func launch(_ turn: RunningTurn, _ work: @escaping @Sendable () async -> Void) {
        state.withLockedValue { state in
            state.turns[turn.id] = turn
            state.streamTasks[turn.id] = Task {
                await work()
                self.finished(turn)
            }
        }
    }

    /// Runs a blocking turn in the caller's task, registered while it runs.
    func run<T: Sendable>(_ turn: RunningTurn, _ work: () async throws -> T) async rethrows -> T {
        state.withLockedValue { $0.turns[turn.id] = turn }
        defer { finished(turn) }
        return try await work()
    }

    /// Dify named the turn's task: a stop sent right after the `start` event finds it.
    func register(taskID: String, for turn: RunningTurn) { state.withLockedValue { $0.byTask[taskID] = turn } }

    func turn(_ id: String) -> RunningTurn? { state.withLockedValue { $0.turns[id] } }
    func turn(forTask taskID: String) -> RunningTurn? { state.withLockedValue { $0.byTask[taskID] } }
    func turns(of caller: CallerIdentity) -> [RunningTurn] {
        state.withLockedValue { $0.turns.values.filter { $0.caller == caller } }
    }
    var running: [RunningTurn] { state.withLockedValue { Array($0.turns.values) } }
    var activeCount: Int { state.withLockedValue { $0.streamTasks.count } }
    private var isIdle: Bool { state.withLockedValue { $0.turns.isEmpty } }

    /// Waits for every running turn, up to `deadline`; true when none is left.
    func drain(until deadline: ContinuousClock.Instant) async -> Bool {
        while !isIdle, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        return isIdle
    }

    /// Cancels every running stream: each stores its answer as far as it got, marked interrupted, and tells its
    /// readers the gateway is restarting. Returns how many there were.
    func interruptAll() -> Int {
        let tasks = state.withLockedValue { Array($0.streamTasks.values) }
        for task in tasks { task.cancel() }
        return tasks.count
    }

    private func finished(_ turn: RunningTurn) {
        state.withLockedValue { state in
            state.turns[turn.id] = nil
            state.streamTasks[turn.id] = nil
            if let taskID = turn.taskID, state.byTask[taskID] === turn { state.byTask[taskID] = nil }
        }
    }
}
