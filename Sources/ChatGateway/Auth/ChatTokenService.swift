import Crypto
import Foundation
import JWTKit

/// Who a verified chat token speaks for.
public struct TokenIdentity: Sendable, Equatable {
    public let systemID: String
    public let userID: String
    /// The key that asked the gateway for this token, when the gateway minted it.
    public var mintingKeyID: String?
    /// The data key that minted the token, when one did.
    public var dataKeyID: UUID?
}

/// Mints and verifies the chat JWTs (HS256 with `CHAT_GATEWAY_JWT_SECRET`).
///
/// During a key rotation `CHAT_GATEWAY_JWT_PREVIOUS_SECRET` still verifies the tokens minted before it,
/// but is never used to sign: new tokens always carry the current secret.
public struct ChatTokenService: Sendable {
    public static let defaultLifetime: TimeInterval = 24 * 60 * 60
    /// The reason given for an expired token; the chat page tells expired links from forged ones by it.
    public static let expiredReason = "Token expired"

    private let signingKeys: JWTKeyCollection
    /// The current secret first, then the previous one if any.
    private let verifyingKeys: [JWTKeyCollection]
    private let policy: ChatTokenPolicy
    private let now: @Sendable () -> Date
    private let keyIDSecret: SymmetricKey

    public init(
        secret: String, previousSecret: String? = nil, policy: ChatTokenPolicy = .init(),
        now: @escaping @Sendable () -> Date = Date.init
    ) async {
        signingKeys = await Self.keyCollection(secret)
        var verifying = [signingKeys]
        if let previousSecret { verifying.append(await Self.keyCollection(previousSecret)) }
        verifyingKeys = verifying
        keyIDSecret = SymmetricKey(data: Data(("chat-gateway key id:" + secret).utf8))
        self.policy = policy
        self.now = now
    }

    /// The service the gateway runs with: its secrets and its `CHAT_GATEWAY_JWT_*` policy.
    public init(settings: Settings, now: @escaping @Sendable () -> Date = Date.init) async {
        await self.init(
            secret: settings.jwtSecret, previousSecret: settings.jwtPreviousSecret, policy: settings.jwtPolicy, now: now
        )
    }

    /// HS256 with `secret`, as the chat tokens and Open WebUI's signed user are made.
    static func keyCollection(_ secret: String) async -> JWTKeyCollection {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: keyBytes(secret)), digestAlgorithm: .sha256)
        return keys
    }

    /// jwt-kit asserts on keys shorter than the digest (32 bytes), but deployments of the seed use
    /// any string as the secret. HMAC itself zero-pads short keys to its block size, so padding
    /// with zeros to 32 bytes here produces exactly the same signatures as the unpadded secret.
    static func keyBytes(_ secret: String) -> [UInt8] {
        let bytes = Array(secret.utf8)
        return bytes.count >= 32 ? bytes : bytes + Array(repeating: 0, count: 32 - bytes.count)
    }

    /// Minted tokens carry `iat` (so the maximum lifetime is measured from it), the configured `iss`/`aud`, and
    /// the id of the key that asked for them, if any.
    public func issue(
        systemID: String, userID: String, mintingKeyID: String? = nil, lifetime: TimeInterval = defaultLifetime,
        dataKeyID: UUID? = nil, notAfter: Date? = nil
    ) async throws -> String {
        let issuedAt = now()
        // A token outlives no key: it expires when the data key that minted it does.
        var expires = issuedAt.addingTimeInterval(lifetime)
        if let notAfter { expires = min(expires, notAfter) }
        return try await signingKeys.sign(
            ChatTokenClaims(
                systemID: systemID, userID: userID, expires: expires, issuedAt: issuedAt, issuer: policy.issuer,
                audience: policy.audience, keyID: mintingKeyID, dataKeyID: dataKeyID?.uuidString))
    }

    /// A name for an API key that tokens can carry: a keyed digest, so a visitor reading a token learns nothing
    /// about the key, even a short one.
    public func keyID(of apiKey: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(apiKey.utf8), using: keyIDSecret).prefix(12).lowercaseHex
    }

    /// Verifies signature, algorithm and claims; every failure is an `AuthError.invalidToken` saying which.
    public func verify(_ token: String) async throws(AuthError) -> TokenIdentity {
        let algorithm = try Self.headerAlgorithm(of: token)
        // jwt-kit would also refuse these, but only with a generic error; callers deserve to know why.
        guard algorithm == "HS256" else {
            throw .invalidToken("Unsupported token algorithm \"\(algorithm)\": only HS256 is accepted")
        }
        let claims = try await verifiedClaims(token)
        try policy.check(claims, now: now())
        guard let systemID = claims.systemID, let userID = claims.userID, !systemID.isEmpty, !userID.isEmpty else {
            throw .invalidToken("token must contain system_id and user_id")
        }
        return TokenIdentity(
            systemID: systemID, userID: userID, mintingKeyID: claims.keyID,
            dataKeyID: claims.dataKeyID.flatMap(UUID.init(uuidString:)))
    }

    /// The claims of a token signed with the current secret, else with the previous one.
    private func verifiedClaims(_ token: String) async throws(AuthError) -> ChatTokenClaims {
        for keys in verifyingKeys {
            do {
                return try await keys.verify(token, as: ChatTokenClaims.self)
            } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
                continue
            } catch {
                throw .invalidToken("Invalid or expired token")
            }
        }
        throw .invalidToken("Invalid token signature")
    }

    private static func headerAlgorithm(of token: String) throws(AuthError) -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Data(base64URLEncoded: String(parts[0])),
            let header = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { throw .invalidToken("Malformed token") }
        return (header["alg"] as? String) ?? "none"
    }
}

extension Data {
    init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        self.init(base64Encoded: base64)
    }
}
