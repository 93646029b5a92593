/// The (system, user) a request acts for, after authentication and every identity rule.
public struct CallerIdentity: Sendable, Equatable {
    public let systemID: String
    public let userID: String

    public var difyUser: String { IdentityRules.difyUser(systemID: systemID, userID: userID) }
}

/// How the caller proved who they are.
enum Credential: Sendable, Equatable {
    /// A valid `X-API-Key`: may act for any user of any allowed system, so it must name them.
    case apiKey
    /// A valid chat JWT: acts for exactly the token's system and user.
    case token(TokenIdentity)
}
