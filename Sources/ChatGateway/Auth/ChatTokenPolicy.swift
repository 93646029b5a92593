import Foundation

/// The claim checks a deployment may add beyond signature and `exp` (`CHAT_GATEWAY_JWT_*`).
///
/// Everything is off by default except the leeway, so tokens minted by the seed's client backends
/// (only `system_id`, `user_id`, `exp`) keep working unchanged.
public struct ChatTokenPolicy: Sendable, Equatable {
    /// When set, tokens must carry this `aud` (a string, or an array containing it); minted tokens carry it.
    public var audience: String?
    /// When set, tokens must carry exactly this `iss`; minted tokens carry it.
    public var issuer: String?
    /// Longest accepted `exp − iat` (or `exp − now` without `iat`); nil accepts any lifetime.
    public var maxLifetime: TimeInterval?
    /// Clock skew tolerated between the minting backend and this gateway, on `exp`, `nbf` and `iat`.
    public var leeway: TimeInterval

    public static let defaultLeeway: TimeInterval = 30

    public init(
        audience: String? = nil, issuer: String? = nil, maxLifetime: TimeInterval? = nil,
        leeway: TimeInterval = defaultLeeway
    ) {
        self.audience = audience
        self.issuer = issuer
        self.maxLifetime = maxLifetime
        self.leeway = leeway
    }

    /// Checks the time and origin claims of a token whose signature is already verified.
    func check(_ claims: ChatTokenClaims, now: Date) throws(AuthError) {
        guard let exp = claims.exp?.value else { throw .invalidToken("Token must contain exp") }
        guard now < exp.addingTimeInterval(leeway) else { throw .invalidToken(ChatTokenService.expiredReason) }
        if let notBefore = claims.nbf?.value, now.addingTimeInterval(leeway) < notBefore {
            throw .invalidToken("Token not yet valid")
        }
        if let issuedAt = claims.iat?.value, now.addingTimeInterval(leeway) < issuedAt {
            throw .invalidToken("Token issued in the future")
        }
        if let maxLifetime, exp.timeIntervalSince(claims.iat?.value ?? now) > maxLifetime {
            throw .invalidToken("Token lifetime exceeds the maximum of \(Int(maxLifetime)) seconds")
        }
        if let issuer, claims.iss?.value != issuer {
            throw .invalidToken("Invalid token issuer")
        }
        if let audience, !(claims.aud?.value.contains(audience) ?? false) {
            throw .invalidToken("Invalid token audience")
        }
    }
}
