import Vapor

/// Applies the seed's auth rules to a request: `X-API-Key`, else a JWT from `Authorization: Bearer`
/// (which wins) or `?token=`; then resolves the (system, user) the request may act for.
struct GatewayAuthenticator: Sendable {
    let apiKeys: APIKeyVerifier
    let tokens: ChatTokenService
    let allowedSystemIDs: Set<String>

    func credential(for request: Request) async throws(AuthError) -> Credential {
        if let key = request.headers.first(name: "X-API-Key") {
            guard apiKeys.isValid(key) else { throw .invalidAPIKey }
            return .apiKey
        }
        if let token = request.headers.bearerAuthorization?.token ?? (try? request.query.get(String.self, at: "token")), !token.isEmpty {
            return .token(try await tokens.verify(token))
        }
        throw .missingCredentials
    }

    /// Requires `X-API-Key` (chat-token issuance, sync, cache: things a browser token must not do).
    func requireAPIKey(_ request: Request) throws(AuthError) {
        guard let key = request.headers.first(name: "X-API-Key") else { throw .apiKeyRequired }
        guard apiKeys.isValid(key) else { throw .invalidAPIKey }
    }

    /// The identity a request acts for. With a token, ids in the body or query must repeat the token's;
    /// with a key, both must be given.
    func identity(for request: Request, systemID: String?, userID: String?) async throws(AuthError) -> CallerIdentity {
        try identity(try await credential(for: request), systemID: systemID, userID: userID)
    }

    func identity(_ credential: Credential, systemID: String?, userID: String?) throws(AuthError) -> CallerIdentity {
        let caller: CallerIdentity
        switch credential {
        case .token(let token):
            if let systemID, !systemID.isEmpty, systemID != token.systemID { throw .identityMismatch }
            if let userID, !userID.isEmpty, userID != token.userID { throw .identityMismatch }
            caller = CallerIdentity(systemID: token.systemID, userID: token.userID)
        case .apiKey:
            guard let systemID, !systemID.isEmpty, let userID, !userID.isEmpty else { throw .identityRequiredWithAPIKey }
            caller = CallerIdentity(systemID: systemID, userID: userID)
        }
        try check(caller)
        return caller
    }

    /// Format rules (422), then `ALLOWED_SYSTEM_IDS` (403).
    func check(_ caller: CallerIdentity) throws(AuthError) {
        try IdentityRules.validate(systemID: caller.systemID, userID: caller.userID)
        guard allowedSystemIDs.isEmpty || allowedSystemIDs.contains(caller.systemID) else { throw .systemNotAllowed }
    }
}
