/// What went wrong talking to Dify; mapped to 404/502/503/504 by `APIErrorMiddleware`.
public enum DifyError: Error, Equatable, Sendable {
    /// No Dify base URL or key for this system (neither its own nor the shared pair).
    case notConfigured(systemID: String)
    /// The system's Dify key, set through the admin API, cannot be decrypted with `CHAT_GATEWAY_ENCRYPTION_KEY`.
    case keyUnreadable(systemID: String)
    /// Dify answered with an error status; `code`/`message` come from its `{code, message, status}` body when it had one.
    case upstream(status: Int, code: String?, message: String)
    case timeout
    case unreachable(String)
    /// A 2xx answer that was not the JSON Dify documents.
    case malformedResponse(String)
    /// Not sent: the admin-set Dify URL resolves to an address `DifyAddressPolicy` refuses.
    case addressRefused(String)
    /// Not sent: the gateway's own connections to Dify are all in use (`DIFY_MAX_CONNECTIONS`, or the uploads'
    /// pool); a local limit, never a sign of Dify being down.
    case busy(retryAfter: Int)
    /// Not sent: this Dify failed `failures` times in a row and its circuit breaker is open for `retryAfter` more seconds.
    case circuitOpen(failures: Int, retryAfter: Int)

    /// Dify's 404s ("Conversation Not Exists." and friends) mean the caller asked for something
    /// that is not theirs or not there; every other failure is the upstream's.
    public var isNotFound: Bool {
        if case .upstream(404, _, _) = self { return true }
        return false
    }

    /// Failures that mean Dify itself is down or unreachable, which its circuit breaker counts: refused or
    /// dropped connections, timeouts, and 502/503/504 (what a proxy or load balancer answers for a dead or
    /// overloaded Dify). Not Dify's 4xx (the request's fault, or a rate limit: Dify is up), nor its 500, which
    /// Dify sends for one bad request (a failing model provider, a too-long `user`) while it serves the others.
    public var meansUpstreamDown: Bool {
        switch self {
        case .timeout, .unreachable: true
        case .upstream(let status, _, _): [502, 503, 504].contains(status)
        case .notConfigured, .keyUnreadable, .malformedResponse, .circuitOpen, .addressRefused, .busy: false
        }
    }

    /// Seconds for a `Retry-After` header, when known.
    public var retryAfter: Int? {
        switch self {
        case .circuitOpen(_, let seconds), .busy(let seconds): seconds
        default: nil
        }
    }

    /// A short, key-free description for logs and the stored failed message.
    public var summary: String {
        switch self {
        case .notConfigured(let systemID): "Dify is not configured for system \(systemID)"
        case .keyUnreadable(let systemID):
            "the Dify key of system \(systemID) cannot be decrypted with CHAT_GATEWAY_ENCRYPTION_KEY"
        case .upstream(let status, let code, let message):
            "Dify answered \(status)\(code.map { " \($0)" } ?? ""): \(message)"
        case .timeout: "Dify did not answer in time"
        case .unreachable(let reason): "Dify unreachable: \(reason)"
        case .malformedResponse(let reason): "Dify sent a malformed answer: \(reason)"
        case .addressRefused(let reason): "the system's Dify URL is not allowed: \(reason)"
        case .busy: "the gateway's connections to Dify are all in use"
        case .circuitOpen(let failures, let seconds):
            "Dify is unavailable (\(failures) \(failures == 1 ? "failure" : "failures") in a row); retrying in \(seconds) s"
        }
    }
}

/// Kept with a failed turn, so a retried request with its `Idempotency-Key` gets the same failure.
extension DifyError: Codable {}

extension DifyError {
    /// Whether Dify may have started on the request: it answered (other than a proxy's 502/503/504), timed out, or
    /// sent something malformed. A request that never reached it may be sent again with the same
    /// `Idempotency-Key`.
    public var reachedDify: Bool {
        switch self {
        case .upstream(let status, _, _): ![502, 503, 504].contains(status)
        case .timeout, .malformedResponse: true
        case .notConfigured, .keyUnreadable, .unreachable, .addressRefused, .busy, .circuitOpen: false
        }
    }
}
