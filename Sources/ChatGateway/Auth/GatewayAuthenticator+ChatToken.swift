import Vapor

extension GatewayAuthenticator {
    /// Who a `GET /v1/chat-token` request may get a token for. Any key may ask for `user_id=anonymous` (a
    /// fresh visitor id) or renew a visitor id; only a server key may name any other user, within its scope.
    func tokenSubject(_ request: Request, systemID: String?, userID: String?) throws(AuthError) -> CallerIdentity {
        let credential = try keyCredential(request)
        var visitor: String?
        if let userID { visitor = try AnonymousVisitor.resolve(userID) }
        switch credential {
        case .apiKey:
            return try identity(credential, systemID: systemID, userID: visitor ?? userID)
        case .browserKey(let scope, let keyID):
            guard let visitor else {
                if userID?.isEmpty ?? true { throw .identityRequiredWithAPIKey }
                throw .anonymousVisitorsOnly
            }
            return try identity(.apiKey(scope, keyID: keyID), systemID: systemID, userID: visitor)
        case .token:
            throw .apiKeyRequired
        }
    }
}
