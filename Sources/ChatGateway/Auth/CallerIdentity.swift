/// The (system, user) a request acts for, after authentication and every identity rule.
public struct CallerIdentity: Sendable, Equatable {
    public let systemID: String
    /// In its canonical form (NFC): see `IdentityRules.validate`.
    public let userID: String
    /// Came with a chat JWT: may touch only conversations and messages the gateway stored as theirs.
    var isChatToken = false
    /// The API key this caller's chats count against (`RATE_LIMIT_PER_KEY`): the key it came with, or the key
    /// that minted its chat token; nil for tokens minted by a client backend itself.
    var rateKeyID: String?

    public var difyUser: String { IdentityRules.difyUser(systemID: systemID, userID: userID) }
    /// One key per (system, user), for per-user limits held in memory.
    var userKey: String { "\(systemID)\u{0}\(userID)" }

    /// The same (system, user), byte for byte.
    public static func == (a: CallerIdentity, b: CallerIdentity) -> Bool {
        IdentityRules.sameOwner((a.systemID, a.userID), (b.systemID, b.userID))
    }

    /// Whether a stored owner is this caller, compared by bytes.
    func owns(_ owner: (systemID: String, userID: String)) -> Bool {
        IdentityRules.sameOwner(owner, (systemID, userID))
    }
}

/// How the caller proved who they are.
enum Credential: Sendable, Equatable {
    /// A valid `CHAT_GATEWAY_API_KEY`: may act for any user of the systems in its scope, so it must name them.
    /// `keyID` names the key without revealing it (`ChatTokenService.keyID`).
    case apiKey(KeyScope, keyID: String)
    /// A valid `CHAT_GATEWAY_BROWSER_KEY`: may only request chat tokens for anonymous visitors of its systems.
    case browserKey(KeyScope, keyID: String)
    /// A valid chat JWT: acts for exactly the token's system and user.
    case token(TokenIdentity)

    /// The id of the key the request came with, if it came with one.
    var keyID: String? {
        switch self {
        case .apiKey(_, let keyID), .browserKey(_, let keyID): keyID
        case .token: nil
        }
    }
}
