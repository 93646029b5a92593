import Foundation
import JWTKit

/// Who a verified chat token speaks for.
public struct TokenIdentity: Sendable, Equatable {
    public let systemID: String
    public let userID: String
}

/// Mints and verifies the chat JWTs (HS256 with `CHAT_GATEWAY_JWT_SECRET`).
public struct ChatTokenService: Sendable {
    public static let defaultLifetime: TimeInterval = 24 * 60 * 60
    /// The reason given for an expired token; the chat page tells expired links from forged ones by it.
    public static let expiredReason = "Token expired"

    private let keys: JWTKeyCollection
    private let now: @Sendable () -> Date

    public init(secret: String, now: @escaping @Sendable () -> Date = Date.init) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: Self.keyBytes(secret)), digestAlgorithm: .sha256)
        self.keys = keys
        self.now = now
    }

    /// jwt-kit asserts on keys shorter than the digest (32 bytes), but deployments of the seed use
    /// any string as the secret. HMAC itself zero-pads short keys to its block size, so padding
    /// with zeros to 32 bytes here produces exactly the same signatures as the unpadded secret.
    static func keyBytes(_ secret: String) -> [UInt8] {
        let bytes = Array(secret.utf8)
        return bytes.count >= 32 ? bytes : bytes + Array(repeating: 0, count: 32 - bytes.count)
    }

    public func issue(systemID: String, userID: String, lifetime: TimeInterval = defaultLifetime) async throws -> String {
        try await keys.sign(ChatTokenClaims(systemID: systemID, userID: userID, expires: now().addingTimeInterval(lifetime)))
    }

    /// Verifies signature, algorithm and claims; every failure is an `AuthError.invalidToken` saying which.
    public func verify(_ token: String) async throws(AuthError) -> TokenIdentity {
        let algorithm = try Self.headerAlgorithm(of: token)
        // jwt-kit would also refuse these, but only with a generic error; callers deserve to know why.
        guard algorithm == "HS256" else {
            throw .invalidToken("Unsupported token algorithm \"\(algorithm)\": only HS256 is accepted")
        }
        let claims: ChatTokenClaims
        do {
            claims = try await keys.verify(token, as: ChatTokenClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw .invalidToken("Invalid token signature")
        } catch {
            throw .invalidToken("Invalid or expired token")
        }
        guard let exp = claims.exp else { throw .invalidToken("Token must contain exp") }
        guard now() < exp.value else { throw .invalidToken(Self.expiredReason) }
        guard let systemID = claims.systemID, let userID = claims.userID, !systemID.isEmpty, !userID.isEmpty else {
            throw .invalidToken("token must contain system_id and user_id")
        }
        return TokenIdentity(systemID: systemID, userID: userID)
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
