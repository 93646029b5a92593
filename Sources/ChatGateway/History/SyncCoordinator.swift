import NIOConcurrencyHelpers
import Vapor

/// Runs the history sync so that runs never overlap: a run asked for while one is in progress (by the
/// schedule, `POST /v1/sync` or both) waits for that run and gets its report instead of starting another.
actor SyncCoordinator {
    private let sync: HistorySync
    private var current: Task<SyncReport, Never>?

    init(sync: HistorySync) { self.sync = sync }

    /// The report of the run this call started, or of the run already in progress (`joined`).
    func run() async -> (report: SyncReport, joined: Bool) {
        if let current { return (await current.value, true) }
        let task = Task { await sync.run() }
        current = task
        let report = await task.value
        current = nil
        return (report, false)
    }

    var isRunning: Bool { current != nil }
}

/// `SYNC_INTERVAL`: runs the sync by itself, waiting the interval between the end of one run and the
/// start of the next (so a slow run is never stacked on).
struct SyncSchedule: LifecycleHandler {
    let coordinator: SyncCoordinator
    let interval: Duration
    private let loop = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(coordinator: SyncCoordinator, interval: Duration) {
        self.coordinator = coordinator
        self.interval = interval
    }

    func didBootAsync(_ application: Application) async throws {
        let logger = application.logger
        logger.info("history sync scheduled", metadata: ["interval_s": .stringConvertible(interval.components.seconds)])
        loop.withLockedValue { task in
            task = Task { [coordinator, interval] in
                while !Task.isCancelled {
                    do { try await Task.sleep(for: interval) } catch { return }
                    _ = await coordinator.run()
                }
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        loop.withLockedValue { $0?.cancel() }
    }
}
