import Crypto
import Foundation

/// Standard Webhooks' signing: a secret is `whsec_` and the base64 of 32 random bytes; a signature is `v1,` and the
/// base64 of the HMAC-SHA256, keyed with those bytes, of `<webhook-id>.<webhook-timestamp>.<body>`.
enum WebhookSignature {
    static let secretPrefix = "whsec_"

    static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4).flatMap { _ in withUnsafeBytes(of: generator.next() as UInt64) { Array($0) } }
        return secretPrefix + Data(bytes).base64EncodedString()
    }

    /// The `webhook-signature` value: one signature per secret, separated by spaces.
    static func header(id: String, timestamp: Int, body: String, secrets: [String]) -> String {
        secrets.compactMap { signature(id: id, timestamp: timestamp, body: body, secret: $0) }
            .joined(separator: " ")
    }

    static func signature(id: String, timestamp: Int, body: String, secret: String) -> String? {
        let encoded = secret.hasPrefix(secretPrefix) ? String(secret.dropFirst(secretPrefix.count)) : secret
        guard let key = Data(base64Encoded: encoded) else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(id).\(timestamp).\(body)".utf8), using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}
