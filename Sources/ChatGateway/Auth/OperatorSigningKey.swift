import Crypto
import Foundation

/// The key operator sessions are signed with: one only the gateway holds, never `CHAT_GATEWAY_JWT_SECRET`, which
/// client backends hold to mint chat tokens. Derived (HKDF, with a label of its own) from
/// `CHAT_GATEWAY_ENCRYPTION_KEY` when that is set, else from a random secret generated once and kept in the
/// database, which every replica shares. Read on first use, after the migrations have run.
actor OperatorSigningKey {
    enum Source: Sendable {
        case encryptionKey(String)
        case database(GatewaySecrets)
    }

    static let label = Data("chat-gateway operator sessions v1".utf8)
    static let secretName = "operator-session-key"

    private let source: Source
    private var derived: SymmetricKey?

    init(_ source: Source) { self.source = source }

    func key() async throws -> SymmetricKey {
        if let derived { return derived }
        let material =
            switch source {
            case .encryptionKey(let key): key
            case .database(let secrets): try await secrets.secret(named: Self.secretName)
            }
        let key = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: Data(material.utf8)), info: Self.label, outputByteCount: 32)
        derived = key
        return key
    }
}
