/// Why a caller was refused; mapped to HTTP by `APIErrorMiddleware`.
public enum AuthError: Error, Equatable, Sendable {
    case missingCredentials
    case invalidAPIKey
    case invalidToken(String)
    case identityRequiredWithAPIKey
    case identityMismatch
    case systemNotAllowed
    case originNotAllowed
    case invalidIdentity(String)
    case apiKeyRequired
    /// A scoped key asked for a system outside its scope.
    case outsideKeyScope(KeyScope)
    /// A scoped key asked for something only an all-systems key may do (sync, the history page).
    case allSystemsKeyRequired(KeyScope)
    /// A browser key asked for anything but a chat token.
    case chatTokenOnlyKey
    /// A browser key asked for a token of a user other than an anonymous visitor.
    case anonymousVisitorsOnly
    /// A chat token asked for what only operators may read (the usage report).
    case operatorsOnly
    /// `METRICS_KEY` is set and the scrape did not bring it.
    case metricsKeyRequired
}
