import Foundation
import Logging

/// Counts one Dify server's consecutive "Dify is down" failures and, after `threshold` of them, refuses
/// calls for `cooldown` instead of letting them pile up on a dead upstream (closed → open). When the
/// cool-down has passed, one trial call goes through (half-open): if Dify answers the breaker closes,
/// if not it opens for another cool-down. Which failures count is `DifyError.meansUpstreamDown`.
actor UpstreamCircuitBreaker {
    enum State: Equatable {
        case closed(failures: Int)
        case open(until: Date, failures: Int)
        /// The cool-down is over and one trial call is in flight; the others are still refused.
        case halfOpen(failures: Int)
    }

    /// What a finished call says about the upstream.
    enum Outcome: Equatable {
        /// Dify answered, whatever it said (a 4xx or a 500 about this request included).
        case answered
        /// The call failed in a way that means Dify is down.
        case down
        /// No verdict (the caller was cancelled).
        case inconclusive
    }

    /// Whether the admitted call is the half-open trial, whose outcome alone decides the next state.
    enum Permit: Equatable { case normal, trial }

    let threshold: Int
    let cooldown: TimeInterval
    private let now: @Sendable () -> Date
    private let logger: Logger
    private(set) var state = State.closed(failures: 0)

    init(threshold: Int, cooldown: TimeInterval, now: @escaping @Sendable () -> Date = Date.init, logger: Logger) {
        precondition(threshold > 0, "a breaker that never opens is no breaker: leave it out instead")
        self.threshold = threshold
        self.cooldown = cooldown
        self.now = now
        self.logger = logger
    }

    /// Lets a call through, or throws `.circuitOpen` at once while the breaker is open or a trial is in flight.
    func admit() throws(DifyError) -> Permit {
        switch state {
        case .closed:
            return .normal
        case .open(let until, let failures):
            let left = until.timeIntervalSince(now())
            guard left <= 0 else { throw .circuitOpen(failures: failures, retryAfter: max(1, Int(left.rounded(.up)))) }
            state = .halfOpen(failures: failures)
            return .trial
        case .halfOpen(let failures):
            // The trial ends within the connect timeout when Dify is still dead.
            throw .circuitOpen(failures: failures, retryAfter: 1)
        }
    }

    func record(_ outcome: Outcome, permit: Permit) {
        switch (outcome, state) {
        case (.answered, .closed):
            state = .closed(failures: 0)
        case (.answered, .open(_, let failures)), (.answered, .halfOpen(let failures)):
            // A trial, or a call that was already on its way when the breaker opened: Dify answers again.
            state = .closed(failures: 0)
            logger.notice(
                "Dify circuit closed: the upstream answers again", metadata: ["failures": .stringConvertible(failures)])
        case (.down, .closed(let failures)):
            state = .closed(failures: failures + 1)
            if failures + 1 >= threshold { open(failures: failures + 1, reopening: false) }
        case (.down, .halfOpen(let failures)) where permit == .trial:
            open(failures: failures + 1, reopening: true)
        case (.down, .open(let until, let failures)):
            // Calls already in flight when it opened still fail; they lengthen the count, not the cool-down.
            state = .open(until: until, failures: failures + 1)
        case (.down, .halfOpen):
            break
        case (.inconclusive, .halfOpen(let failures)) where permit == .trial:
            // The trial never finished: the next caller tries instead.
            state = .open(until: now(), failures: failures)
        case (.inconclusive, _):
            break
        }
    }

    private func open(failures: Int, reopening: Bool) {
        state = .open(until: now().addingTimeInterval(cooldown), failures: failures)
        logger.warning(
            reopening
                ? "Dify circuit re-opened: the trial call failed"
                : "Dify circuit opened: calls fail at once during the cool-down",
            metadata: ["failures": .stringConvertible(failures), "cooldown_s": .stringConvertible(Int(cooldown))])
    }
}
