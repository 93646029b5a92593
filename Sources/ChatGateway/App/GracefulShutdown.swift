import Logging
import Vapor

/// What follows SIGTERM (or SIGINT), before the listener closes: `/readyz` answers 503 at once; after
/// `SHUTDOWN_GRACE_READY` new chats are refused with 503; running streams are read to their end and stored,
/// until `SHUTDOWN_GRACE` after the signal. A stream still running then is stored as far as it got, marked
/// stopped, and its client gets an `error` event saying the gateway is restarting. Blocking chats in flight are
/// waited for the same way.
struct GracefulShutdown: Sendable {
    let state: ShutdownState
    let streams: ChatStreamRegistry
    let readyGrace: Duration
    let grace: Duration

    func run(logger: Logger) async {
        let signalled = ContinuousClock.now
        state.enter(.draining)
        let running = streams.activeCount
        logger.notice(
            "shutting down: /readyz answers 503",
            metadata: [
                "streams": .stringConvertible(running),
                "refusing_chats_in_ms": .stringConvertible(readyGrace.milliseconds),
            ])
        try? await Task.sleep(until: signalled + readyGrace, clock: .continuous)
        state.enter(.refusingChats)
        await finishStreams(by: signalled + grace, logger: logger)
        state.enter(.drained)
        logger.notice("shutdown: streams finished, closing the listener")
    }

    /// Waits for the streams until `deadline`, then interrupts those left and waits for them to be stored.
    private func finishStreams(by deadline: ContinuousClock.Instant, logger: Logger) async {
        if await streams.drain(until: deadline) { return }
        let interrupted = streams.interruptAll()
        logger.warning(
            "SHUTDOWN_GRACE passed: streams still running are stored as far as they got",
            metadata: ["streams": .stringConvertible(interrupted)])
        if await !streams.drain(until: .now + .seconds(5)) {
            logger.error("streams could not be stored before exit")
        }
    }
}

extension GracefulShutdown: LifecycleHandler {
    /// An app shut down without the signal sequence (tests, commands) still lets its streams finish and be stored.
    func shutdownAsync(_ application: Application) async {
        guard state.phase < .drained else { return }
        state.enter(.refusingChats)
        await finishStreams(by: .now + grace, logger: application.logger)
    }
}

extension Application {
    private struct GracefulShutdownKey: StorageKey { typealias Value = GracefulShutdown }

    /// Set by `configure`; the entry point runs it when a signal stops the server.
    var gracefulShutdown: GracefulShutdown? {
        get { storage[GracefulShutdownKey.self] }
        set {
            storage[GracefulShutdownKey.self] = newValue
            if let newValue { lifecycle.use(newValue) }
        }
    }
}
