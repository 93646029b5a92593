import Vapor

/// Applies the seed's auth rules to a request: `X-API-Key`, else a JWT from `Authorization: Bearer`
/// (which wins) or `?token=`; then resolves the (system, user) the request may act for.
///
/// Key scopes are enforced here and nowhere else: `identity` refuses a scoped key outside its systems and
/// a browser key everywhere; `operatorScope` hands the cache its scope; `tokenSubject` is the browser key's
/// only way in.
struct GatewayAuthenticator: Sendable {
    let apiKeys: APIKeyVerifier
    let tokens: ChatTokenService
    let allowedSystemIDs: Set<String>
    var browserKeys = APIKeyVerifier(entries: [])
    /// Keys and systems defined through the admin API.
    var registry: GatewayRegistry? = nil

    func credential(for request: Request) async throws(AuthError) -> Credential {
        if request.headers.first(name: "X-API-Key") != nil { return try keyCredential(request) }
        if let token = request.headers.bearerAuthorization?.token ?? (try? request.query.get(String.self, at: "token")),
            !token.isEmpty
        {
            return .token(try await verify(token: token))
        }
        throw .missingCredentials
    }

    /// A chat token's identity, wherever it is presented (API or chat page): signed, in date, and, when a data key
    /// minted it, that key still usable.
    func verify(token: String) async throws(AuthError) -> TokenIdentity {
        let identity = try await tokens.verify(token)
        if let dataKeyID = identity.dataKeyID, registry?.isUsableKey(id: dataKeyID) != true {
            throw .invalidToken("The key that issued this token was revoked or has expired")
        }
        return identity
    }

    /// Requires `X-API-Key` (chat-token issuance, sync, cache: things a browser token must not do).
    func keyCredential(_ request: Request) throws(AuthError) -> Credential {
        guard let key = request.headers.first(name: "X-API-Key") else { throw .apiKeyRequired }
        return try keyCredential(presented: key)
    }

    /// The server or browser key `key` is, wherever it was presented.
    func keyCredential(presented key: String) throws(AuthError) -> Credential {
        // Both lists are always checked, so timing does not tell a browser key from a server key.
        let server = apiKeys.scope(of: key)
        let browser = browserKeys.scope(of: key)
        if let server { return .apiKey(server, keyID: tokens.keyID(of: key)) }
        if let browser { return .browserKey(browser, keyID: tokens.keyID(of: key)) }
        if let managed = registry?.key(presented: key) {
            switch managed.kind {
            case .server: return .apiKey(managed.scope, keyID: tokens.keyID(of: key))
            case .browser: return .browserKey(managed.scope, keyID: tokens.keyID(of: key))
            }
        }
        throw .invalidAPIKey
    }

    /// The server key of `Authorization: Bearer`, where Dify's and OpenAI's SDKs put theirs; a browser key or a chat
    /// token is no server key there, and is refused as a wrong key.
    func bearerServerKey(_ request: Request) throws(AuthError) -> (scope: KeyScope, keyID: String) {
        guard let key = request.headers.bearerAuthorization?.token, !key.isEmpty else { throw .missingCredentials }
        guard case .apiKey(let scope, let keyID) = try keyCredential(presented: key) else { throw .invalidAPIKey }
        return (scope, keyID)
    }

    /// The systems an operator call (cache, sync) may see: a server key's scope; a browser key is refused.
    func operatorScope(_ request: Request) throws(AuthError) -> KeyScope {
        switch try keyCredential(request) {
        case .apiKey(let scope, _): return scope
        case .browserKey, .token: throw .chatTokenOnlyKey
        }
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
            let tokenUser = try IdentityRules.validate(systemID: token.systemID, userID: token.userID)
            if let systemID, !systemID.isEmpty, systemID != token.systemID { throw .identityMismatch }
            if let userID, !userID.isEmpty, userID.precomposedStringWithCanonicalMapping != tokenUser {
                throw .identityMismatch
            }
            caller = CallerIdentity(
                systemID: token.systemID, userID: tokenUser, isChatToken: true, rateKeyID: token.mintingKeyID)
        case .apiKey(_, let keyID):
            guard let systemID, !systemID.isEmpty, let userID, !userID.isEmpty else {
                throw .identityRequiredWithAPIKey
            }
            let canonical = try IdentityRules.validate(systemID: systemID, userID: userID)
            caller = CallerIdentity(systemID: systemID, userID: canonical, rateKeyID: keyID)
        case .browserKey:
            throw .chatTokenOnlyKey
        }
        // `ALLOWED_SYSTEM_IDS` (403), then the key's own scope (403).
        guard allowedSystemIDs.isEmpty || allowedSystemIDs.contains(caller.systemID) else { throw .systemNotAllowed }
        if let system = registry?.systemInForce(caller.systemID), !system.enabled { throw .systemNotAllowed }
        if case .apiKey(let scope, _) = credential, !scope.permits(caller.systemID) { throw .outsideKeyScope(scope) }
        return caller
    }
}
