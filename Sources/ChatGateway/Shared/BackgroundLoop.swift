import NIOConcurrencyHelpers

/// The task a lifecycle handler starts at boot and, at shutdown, cancels and waits for, so that its work never
/// outlives the databases.
final class BackgroundLoop: Sendable {
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init() {}

    func start(_ body: @escaping @Sendable () async -> Void) {
        task.withLockedValue { $0 = Task(operation: body) }
    }

    /// Runs `body` every `interval`, counted from the end of one run to the start of the next (a slow run is never
    /// stacked on), until cancelled.
    func start(every interval: Duration, _ body: @escaping @Sendable () async -> Void) {
        start { await Self.repeating(every: interval, body) }
    }

    /// Cancels the task and waits for it to wind down; false if it never started (a command, not a server).
    @discardableResult
    func stop() async -> Bool {
        guard let running = task.withLockedValue({ $0 }) else { return false }
        running.cancel()
        await running.value
        return true
    }

    /// Waits `interval`, runs `body`, and again, until the task is cancelled.
    static func repeating(every interval: Duration, _ body: () async -> Void) async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            await body()
        }
    }
}
