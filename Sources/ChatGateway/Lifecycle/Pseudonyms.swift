import Crypto
import Foundation

/// What the gateway calls an erased person from then on: `erased_` and 32 hex digits of an HMAC-SHA256 of their
/// (system, user) under the gateway's secret. The same person always gets the same name, so totals and receipts
/// add up, and without the secret nobody can turn it back into the id.
struct Pseudonyms: Sendable {
    private let key: SymmetricKey

    init(secret: String) {
        key = SymmetricKey(data: Data("chat-gateway erasure pseudonyms\u{0}\(secret)".utf8))
    }

    func subject(systemID: String, userID: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(systemID)\u{0}\(userID)".utf8), using: key)
        return "erased_" + Data(mac).prefix(16).lowercaseHex
    }
}
