import Vapor

/// Who a `/dify/v1` call acts for: `Authorization: Bearer <server key>` (where Dify's SDKs put their app key),
/// the system the key serves (or the one `X-Gateway-System` names, for a key of several), and Dify's `user`.
extension GatewayAuthenticator {
    /// Dify's fallback where `user` is optional (lists, delete, rename, uploads).
    static let difyDefaultUser = "DEFAULT-USER"

    /// The caller acting as `user`, under every rule of `/v1`.
    func difyAPICaller(_ req: Request, user: String?) throws -> CallerIdentity {
        let (credential, systemID) = try difyAPISystem(req)
        guard let user, !user.isEmpty else { throw DifyAPIError.userRequired }
        return try identity(credential, systemID: systemID, userID: user)
    }

    /// The system a call without a user (the app's parameters, meta and info) is for, checked as a caller would be.
    func difyAPISystemID(_ req: Request) throws -> String {
        try difyAPICaller(req, user: Self.difyDefaultUser).systemID
    }

    private func difyAPISystem(_ req: Request) throws -> (Credential, String) {
        guard let key = req.headers.bearerAuthorization?.token, !key.isEmpty else {
            throw AuthError.missingCredentials
        }
        // A browser key or a chat token is no server key: Dify's 401, as for a wrong key.
        let credential = try keyCredential(presented: key)
        guard case .apiKey(let scope, _) = credential else { throw AuthError.invalidAPIKey }
        if let named = req.headers.first(name: "X-Gateway-System"), !named.isEmpty { return (credential, named) }
        guard case .systems(let ids) = scope, ids.count == 1, let only = ids.first else {
            throw DifyAPIError.systemHeaderRequired(scope)
        }
        return (credential, only)
    }
}
