import NIOConcurrencyHelpers

/// How a stream's opening went, decided once by whichever comes first: Dify's answer head (or its refusal), or
/// the end of the grace period the handler waits. A refusal after that goes to the client as an `error` event.
final class StreamOpening: Sendable {
    enum Outcome: Sendable {
        case opened
        case refused(DifyError)
        case stillWaiting
    }

    private let state = NIOLockedValueBox<(outcome: Outcome?, waiter: CheckedContinuation<Outcome, Never>?)>((nil, nil))

    /// True when `outcome` is the one that counts: the first reported.
    func report(_ outcome: Outcome) -> Bool {
        let (decided, waiter) = state.withLockedValue { state -> (Bool, CheckedContinuation<Outcome, Never>?) in
            guard state.outcome == nil else { return (false, nil) }
            state.outcome = outcome
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(returning: outcome)
        return decided
    }

    /// The outcome, waiting at most `grace` for the stream's head.
    func wait(upTo grace: Duration) async -> Outcome {
        let timer = Task {
            try await Task.sleep(for: grace)
            _ = report(.stillWaiting)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let decided = state.withLockedValue { state -> Outcome? in
                if let outcome = state.outcome { return outcome }
                state.waiter = continuation
                return nil
            }
            if let decided { continuation.resume(returning: decided) }
        }
    }
}
