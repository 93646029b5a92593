import Foundation
import JWTKit

/// The JWT a client system mints for one of its users: `system_id`, `user_id`, `exp` (HS256), and
/// optionally `iat`, `nbf`, `iss`, `aud` (checked by `ChatTokenPolicy` when configured).
///
/// Every field is optional here so a token missing one is reported by name instead of as a decoding error.
struct ChatTokenClaims: JWTPayload, Equatable {
    var systemID: String?
    var userID: String?
    var exp: ExpirationClaim?
    var iat: IssuedAtClaim?
    var nbf: NotBeforeClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    /// Set by the gateway on the tokens it mints: which key asked (`ChatTokenService.keyID`), so the chats made
    /// with the token count against that key's limits.
    var keyID: String?
    /// Set on tokens a data key (admin API) minted: that key's id, so revoking it ends them.
    var dataKeyID: String?

    enum CodingKeys: String, CodingKey {
        case systemID = "system_id"
        case userID = "user_id"
        case keyID = "key_id"
        case dataKeyID = "data_key_id"
        case exp, iat, nbf, iss, aud
    }

    init(
        systemID: String, userID: String, expires: Date, issuedAt: Date? = nil, issuer: String? = nil,
        audience: String? = nil, keyID: String? = nil, dataKeyID: String? = nil
    ) {
        self.keyID = keyID
        self.dataKeyID = dataKeyID
        self.systemID = systemID
        self.userID = userID
        self.exp = ExpirationClaim(value: expires)
        self.iat = issuedAt.map { IssuedAtClaim(value: $0) }
        self.iss = issuer.map { IssuerClaim(value: $0) }
        self.aud = audience.map { AudienceClaim(value: [$0]) }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        systemID = Self.lenientString(container, .systemID)
        userID = Self.lenientString(container, .userID)
        exp = try container.decodeIfPresent(ExpirationClaim.self, forKey: .exp)
        iat = try container.decodeIfPresent(IssuedAtClaim.self, forKey: .iat)
        nbf = try container.decodeIfPresent(NotBeforeClaim.self, forKey: .nbf)
        iss = try container.decodeIfPresent(IssuerClaim.self, forKey: .iss)
        aud = try container.decodeIfPresent(AudienceClaim.self, forKey: .aud)
        keyID = try? container.decodeIfPresent(String.self, forKey: .keyID)
        dataKeyID = try? container.decodeIfPresent(String.self, forKey: .dataKeyID)
    }

    /// Client systems built on other stacks put numeric user ids in the token (`"user_id": 999`).
    private static func lenientString(_ container: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) -> String? {
        if let text = try? container.decodeIfPresent(String.self, forKey: key) { return text }
        if let number = try? container.decodeIfPresent(Int64.self, forKey: key) { return String(number) }
        return nil
    }

    /// Claims are checked by `ChatTokenService`, which names the failing one.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
