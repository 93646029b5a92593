import Vapor

/// Who a `/dify/v1` call acts for: `Authorization: Bearer <server key>` (where Dify's SDKs put their app key),
/// the system the key serves (or the one `X-Gateway-System` names, for a key of several), and Dify's `user`.
extension GatewayAuthenticator {
    /// Dify's fallback where `user` is optional (lists, delete, rename, uploads).
    static let difyDefaultUser = "DEFAULT-USER"

    /// The caller acting as `user`, under every rule of `/v1`.
    func difyAPICaller(_ req: Request, user: String?) throws -> CallerIdentity {
        try difyAPICaller(try difyAPIKey(req), user: user)
    }

    /// The same, for a key already checked (`difyAPIKey`), so a body is read only once the key is known good.
    func difyAPICaller(_ key: DifyAPIKey, user: String?) throws -> CallerIdentity {
        guard let user, !user.isEmpty else { throw DifyAPIError.userRequired }
        return try identity(key.credential, systemID: key.systemID, userID: user)
    }

    /// The server key presented and the system it acts for.
    func difyAPIKey(_ req: Request) throws -> DifyAPIKey {
        let (scope, keyID) = try bearerServerKey(req)
        let credential = Credential.apiKey(scope, keyID: keyID)
        if let named = req.headers.first(name: "X-Gateway-System"), !named.isEmpty {
            return DifyAPIKey(credential: credential, systemID: named)
        }
        guard case .systems(let ids) = scope, ids.count == 1, let only = ids.first else {
            throw DifyAPIError.systemHeaderRequired(scope)
        }
        return DifyAPIKey(credential: credential, systemID: only)
    }
}

/// A `/dify/v1` caller's server key, checked, and the system it acts for.
struct DifyAPIKey: Sendable {
    let credential: Credential
    let systemID: String
}
