import NIOConcurrencyHelpers
import Vapor

/// Runs the history sync so that runs never overlap. In this process, a run asked for while one is in
/// progress (by the schedule, `POST /v1/sync` or both) waits for that run and gets its report. Across replicas
/// on one database, a run holds the `history-sync` lease; another replica asking meanwhile is told so.
actor SyncCoordinator {
    enum Outcome: Sendable, Equatable {
        case ran(SyncReport)
        /// A run was already in progress in this process: its report.
        case joined(SyncReport)
        /// Another replica holds the lease.
        case runningElsewhere
    }

    private let sync: HistorySync
    private let lease: Lease
    private let metrics: GatewayMetrics
    private let now: @Sendable () -> Date
    private var current: Task<SyncReport?, any Error>?

    init(
        sync: HistorySync, lease: Lease, metrics: GatewayMetrics = GatewayMetrics(isKnownSystem: { _ in false }),
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.sync = sync
        self.lease = lease
        self.metrics = metrics
        self.now = now
    }

    func run() async throws -> Outcome {
        if let current {
            guard let report = try await current.value else { return .runningElsewhere }
            return .joined(report)
        }
        do {
            let outcome = try await start()
            switch outcome {
            case .ran(let report):
                metrics.syncRun(report.errors.isEmpty ? .success : .partial, report: report, finishedAt: now())
            case .runningElsewhere: metrics.syncRun(.skipped, report: nil, finishedAt: now())
            case .joined: break
            }
            return outcome
        } catch {
            metrics.syncRun(.failure, report: nil, finishedAt: now())
            throw error
        }
    }

    private func start() async throws -> Outcome {
        let task = Task { [sync, lease] in try await lease.whileHeld { await sync.run() } }
        current = task
        defer { current = nil }
        // The caller that started the run owns it: when it is cancelled (shutdown), the run winds down early.
        let report = try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
        guard let report else { return .runningElsewhere }
        return .ran(report)
    }

    var isRunning: Bool { current != nil }
}

/// `SYNC_INTERVAL`: runs the sync by itself, waiting the interval between the end of one run and the
/// start of the next (so a slow run is never stacked on).
struct SyncSchedule: LifecycleHandler {
    let coordinator: SyncCoordinator
    let interval: Duration
    private let loop = BackgroundLoop()

    init(coordinator: SyncCoordinator, interval: Duration) {
        self.coordinator = coordinator
        self.interval = interval
    }

    func didBootAsync(_ application: Application) async throws {
        let logger = application.logger
        logger.info("history sync scheduled", metadata: ["interval_s": .stringConvertible(interval.components.seconds)])
        loop.start(every: interval) { [coordinator] in
            do {
                if try await coordinator.run() == .runningElsewhere {
                    logger.info("history sync skipped: another replica is running it")
                }
            } catch {
                logger.error("history sync could not start", metadata: ["error": .string(String(describing: error))])
            }
        }
    }

    /// Waits for a run in progress to wind down (it stops starting users), so it never touches a closed database.
    func shutdownAsync(_ application: Application) async {
        await loop.stop()
    }
}
