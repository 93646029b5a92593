/// Retries Dify calls that failed for reasons that pass: rate limits (429), server errors (5xx),
/// timeouts and refused connections. Back-off doubles from `baseDelay` up to `maxDelay`.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Duration
    public var maxDelay: Duration
    /// Injectable so tests do not wait for real back-off.
    public var sleep: @Sendable (Duration) async throws -> Void

    public init(
        maxAttempts: Int = 5, baseDelay: Duration = .milliseconds(500), maxDelay: Duration = .seconds(8),
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.sleep = sleep
    }

    /// One attempt: what an interactive request uses, where the caller is waiting.
    public static let once = RetryPolicy(maxAttempts: 1)

    static func isTransient(_ error: DifyError) -> Bool {
        switch error {
        case .upstream(let status, _, _): status == 429 || status >= 500
        case .timeout, .unreachable: true
        // An open circuit is not retried: it stays open for its whole cool-down, longer than the back-off.
        case .notConfigured, .keyUnreadable, .malformedResponse, .circuitOpen, .addressRefused, .busy: false
        }
    }

    func run<T: Sendable>(_ operation: @Sendable () async throws -> T) async throws -> T {
        var delay = baseDelay
        for attempt in 1... {
            do {
                return try await operation()
            } catch let error as DifyError where attempt < maxAttempts && Self.isTransient(error) {
                try await sleep(delay)
                delay = min(delay * 2, maxDelay)
            }
        }
        fatalError("unreachable: the loop returns or throws")
    }
}
