/// The (system, user) a request acts for, after authentication and every identity rule.
public struct CallerIdentity: Sendable, Equatable {
    public let systemID: String
    public let userID: String

    public var difyUser: String { IdentityRules.difyUser(systemID: systemID, userID: userID) }
}

/// How the caller proved who they are.
enum Credential: Sendable, Equatable {
    /// A valid `CHAT_GATEWAY_API_KEY`: may act for any user of the systems in its scope, so it must name them.
    case apiKey(KeyScope)
    /// A valid `CHAT_GATEWAY_BROWSER_KEY`: may only request chat tokens for anonymous visitors of its systems.
    case browserKey(KeyScope)
    /// A valid chat JWT: acts for exactly the token's system and user.
    case token(TokenIdentity)

    var isAPIKey: Bool {
        if case .apiKey = self { return true }
        return false
    }
}
