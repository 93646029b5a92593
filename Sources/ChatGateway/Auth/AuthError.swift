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
}
