import Crypto
import Foundation

/// Seals secrets for the database (systems' Dify keys, webhook endpoints' signing secrets) with AES-GCM, under a key
/// derived (HKDF, with a label per kind of secret) from `CHAT_GATEWAY_ENCRYPTION_KEY`: a copy of the database alone
/// gives no secret.
struct SecretSealer: Sendable {
    static let label = Data("chat-gateway dify keys v1".utf8)
    static let webhookSecretsLabel = Data("chat-gateway webhook secrets v1".utf8)
    private let key: SymmetricKey

    init(encryptionKey: String, label: Data = Self.label) {
        key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(encryptionKey.utf8)), info: label, outputByteCount: 32)
    }

    /// Base64 of nonce, ciphertext and tag.
    func seal(_ plaintext: String) throws -> String {
        try AES.GCM.seal(Data(plaintext.utf8), using: key).combined!.base64EncodedString()
    }

    /// The key sealed in `sealed`, or nil when it was sealed under another encryption key (or is damaged).
    func open(_ sealed: String) -> String? {
        guard let data = Data(base64Encoded: sealed), let box = try? AES.GCM.SealedBox(combined: data),
            let plaintext = try? AES.GCM.open(box, using: key)
        else { return nil }
        return String(decoding: plaintext, as: UTF8.self)
    }

    /// What answers show of a Dify key: at most a quarter of it, split between its start and end (`app-…9f2c` of a
    /// 32-character key), and nothing of a key shorter than 16 characters.
    static func hint(_ key: String) -> String {
        guard key.count >= 16 else { return "…" }
        let shown = min(4, key.count / 8)
        return key.prefix(shown) + "…" + key.suffix(shown)
    }
}
