/// Retries Dify calls that failed for reasons that pass: rate limits (429), server errors (5xx),
/// timeouts and refused connections. Back-off doubles from `baseDelay` up to `maxDelay`.
struct RetryPolicy: Sendable {
    var maxAttempts = 5
    var baseDelay: Duration = .milliseconds(500)
    var maxDelay: Duration = .seconds(8)
    /// Injectable so tests do not wait for real back-off.
    var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    static func isTransient(_ error: DifyError) -> Bool {
        switch error {
        case .upstream(let status, _, _): status == 429 || status >= 500
        case .timeout, .unreachable: true
        case .notConfigured, .malformedResponse: false
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
