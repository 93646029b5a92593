import NIOConcurrencyHelpers

/// Where this process is in its SIGTERM sequence (`GracefulShutdown`): `/readyz` and chat admission read it.
final class ShutdownState: Sendable {
    enum Phase: Int, Comparable, Sendable {
        case serving
        /// SIGTERM arrived: `/readyz` says 503 so the load balancer stops sending; chats still start.
        case draining
        /// `SHUTDOWN_GRACE_READY` passed: new chats are refused with 503; running streams finish.
        case refusingChats
        /// The streams are done (or were cut at `SHUTDOWN_GRACE`): the listener closes.
        case drained

        static func < (lhs: Phase, rhs: Phase) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    static let refusalDetail = "The gateway is restarting. Please try again in a moment."
    /// The `error` event a stream still running at the `SHUTDOWN_GRACE` deadline ends with.
    static let interruptedDetail =
        "The gateway is restarting: the answer so far is saved. Please send your message again."

    private let current = NIOLockedValueBox(Phase.serving)

    var phase: Phase { current.withLockedValue { $0 } }

    /// Moves forward only.
    func enter(_ phase: Phase) { current.withLockedValue { $0 = max($0, phase) } }
}
