import Foundation
import JWTKit
import Vapor

/// Who an `/openai/v1` request is for. A server key may act for any user of its systems, as on `/v1`, so the user
/// is the request's `user`, else the one Open WebUI forwards (only signed, when `OPENWEBUI_USER_JWT_SECRET` is
/// set), else the key's own default user `key-<key id>`.
struct OpenAIEndUser: Sendable {
    static let signedUserHeader = "X-OpenWebUI-User-Jwt"
    static let userHeader = "X-OpenWebUI-User-Id"

    /// Open WebUI's signing key, when the operator shares its secret.
    private let openWebUIKeys: JWTKeyCollection?
    private let now: @Sendable () -> Date

    init(openWebUISecret: String?, now: @escaping @Sendable () -> Date) async {
        openWebUIKeys = if let openWebUISecret { await ChatTokenService.keyCollection(openWebUISecret) } else { nil }
        self.now = now
    }

    func userID(for request: Request, bodyUser: String?, keyID: String) async throws -> String {
        if let bodyUser { return bodyUser }
        if let openWebUIKeys {
            guard let token = request.headers.first(name: Self.signedUserHeader), !token.isEmpty else {
                return Self.defaultUser(keyID: keyID)
            }
            let claims: OpenWebUIUserClaims
            do {
                claims = try await openWebUIKeys.verify(token, as: OpenWebUIUserClaims.self)
            } catch {
                throw OpenAIError.invalidUserToken(
                    "\(Self.signedUserHeader) is not signed with OPENWEBUI_USER_JWT_SECRET")
            }
            guard claims.exp.value > now() else {
                throw OpenAIError.invalidUserToken("\(Self.signedUserHeader) has expired")
            }
            guard claims.iss?.value == nil || claims.iss?.value == "open-webui" else {
                throw OpenAIError.invalidUserToken("\(Self.signedUserHeader) is not Open WebUI's (iss)")
            }
            return claims.sub.value
        }
        if let forwarded = request.headers.first(name: Self.userHeader), !forwarded.isEmpty { return forwarded }
        return Self.defaultUser(keyID: keyID)
    }

    static func defaultUser(keyID: String) -> String { "key-\(keyID)" }
}

/// What Open WebUI signs (`FORWARD_USER_INFO_HEADER_JWT_SECRET`): the user's id in `sub`, and an expiry.
struct OpenWebUIUserClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iss: IssuerClaim?

    // The expiry is checked against the gateway's clock by `OpenAIEndUser`.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
