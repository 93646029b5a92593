import Foundation

/// Why a request was refused for load reasons; mapped to 429 (431 for headers, 503 while shutting down) by `APIErrorMiddleware`.
public enum LimitError: Error, Equatable, Sendable {
    /// `RATE_LIMIT_PER_USER`, `RATE_LIMIT_PER_KEY` or `RATE_LIMIT_TOKEN_ISSUANCE` is used up; `retryAfter` seconds until the next request fits.
    case rateLimited(scope: Scope, retryAfter: Int)
    /// The user already has `MAX_STREAMS_PER_USER` streaming answers running.
    case tooManyStreams(limit: Int)
    /// The request's headers are larger than `MAX_HEADER_BYTES`.
    case headersTooLarge(limit: Int)
    /// The request's body is larger than `variable` allows (`MAX_REQUEST_BYTES`, or `MAX_UPLOAD_BYTES` for uploads).
    case bodyTooLarge(limit: Int, variable: String = "MAX_REQUEST_BYTES")
    /// A budget of the user or the system is used up until `resetsAt` (`BUDGET_PER_USER`, a system's `budget`).
    case budgetExhausted(detail: String, resetsAt: Date, retryAfter: Int)
    /// This process already holds `limit` streams (`DIFY_MAX_CONNECTIONS`), uploads or reports: 503, to try again
    /// shortly or on another replica; never counted as Dify being down.
    case gatewayBusy(limit: Int, variable: String)
    /// The key already has `limit` uploads (or reports, or exports) running.
    case tooManyAtOnce(what: String, limit: Int)
    /// An upload arrives slower than the minimum rate: the client's connection is given back.
    case uploadTooSlow(bytesPerSecond: Int)
    /// The process got SIGTERM and its `SHUTDOWN_GRACE_READY` has passed: chats go to another replica.
    case shuttingDown

    public enum Scope: String, Sendable {
        case user
        case apiKey = "API key"
        /// `RATE_LIMIT_TOKEN_ISSUANCE`, per key and per client address.
        case tokenIssuance = "API key's chat tokens"
        case clientAddress = "client address"
        /// Wrong admin keys from one client address (10 a minute).
        case adminSignIn = "client address's admin sign-ins"
        /// Streams of this process past `DIFY_MAX_CONNECTIONS`.
        case gatewayStreams = "gateway's streams"
        /// Dify checks through the admin API.
        case difyChecks = "admin's Dify checks"
    }

    /// Seconds for the `Retry-After` header; nil when nobody can know (a stream ends when Dify finishes).
    var retryAfter: Int? {
        switch self {
        case .rateLimited(_, let seconds), .budgetExhausted(_, _, let seconds): seconds
        case .shuttingDown, .gatewayBusy: 1
        case .tooManyAtOnce: 5
        default: nil
        }
    }
}
