import Foundation
import Vapor

/// `/admin/v1/keys`: API keys as data. A key is shown once, when it is created; only its SHA-256 is kept.
struct AdminKeysController: RouteCollection {
    let registry: GatewayRegistry
    let environmentKeys: [(entry: APIKeyEntry, kind: ManagedKey.Kind)]
    let now: @Sendable () -> Date

    init(registry: GatewayRegistry, settings: Settings, now: @escaping @Sendable () -> Date) {
        self.registry = registry
        environmentKeys = settings.apiKeys.map { ($0, .server) } + settings.browserKeys.map { ($0, .browser) }
        self.now = now
    }

    func boot(routes: any RoutesBuilder) throws {
        let keys = routes.grouped("keys")
        keys.post(use: create)
        keys.get(use: list)
        keys.delete(":key_id", use: revoke)
    }

    struct KeyInput: Content {
        var name: String
        var systems: [String]
        var kind: ManagedKey.Kind
        var expiresAt: Date?

        enum CodingKeys: String, CodingKey { case name, systems, kind, expiresAt = "expires_at" }
    }

    /// The one answer that holds the key.
    struct CreatedKey: Content {
        var id: UUID
        var key: String
        var prefix: String
        var name: String
        var systems: [String]
        var kind: ManagedKey.Kind
        var createdAt: Date
        var expiresAt: Date?

        enum CodingKeys: String, CodingKey {
            case id, key, prefix, name, systems, kind, createdAt = "created_at", expiresAt = "expires_at"
        }
    }

    struct KeyView: Content {
        var id: UUID?
        var source: String
        var prefix: String?
        var name: String
        var systems: [String]
        var kind: ManagedKey.Kind
        var createdAt: Date?
        var expiresAt: Date?
        var lastUsedAt: Date?
        var revokedAt: Date?

        enum CodingKeys: String, CodingKey {
            case id, source, prefix, name, systems, kind, createdAt = "created_at", expiresAt = "expires_at"
            case lastUsedAt = "last_used_at", revokedAt = "revoked_at"
        }
    }

    @Sendable
    func create(_ req: Request) async throws -> Response {
        let input = try req.content.decode(KeyInput.self)
        let name = input.name.trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.count <= 200 else { throw AdminError.invalid("name must be 1 to 200 characters") }
        guard input.kind == .server || !input.systems.isEmpty else {
            throw AdminError.invalid("a browser key must name its systems: only server keys may serve every system")
        }
        for system in input.systems where !IdentityRules.isValidSystemID(system) {
            throw AdminError.invalid("systems: \"\(system)\" is not a system_id")
        }
        let stamp = now()
        if let expiresAt = input.expiresAt, expiresAt <= stamp {
            throw AdminError.invalid("expires_at must be in the future")
        }
        let key = Self.newKey()
        let systems = Array(Set(input.systems)).sorted()
        let row = AdminStore.KeyRow(
            id: UUID.newRowID(now: stamp), keyHash: GatewayRegistry.hash(key), prefix: String(key.prefix(12)),
            name: name, systems: AdminStore.text(ofList: systems),
            kind: input.kind.rawValue, createdAt: stamp, expiresAt: input.expiresAt)
        let scope = systems.isEmpty ? "all systems" : systems.joined(separator: ", ")
        try await registry.store.insert(
            row,
            audit: AuditEntry(
                at: stamp, actor: req.adminActor, action: "key.created",
                target: row.prefix, detail: "\(input.kind.rawValue) key \"\(name)\" for \(scope)"))
        try await registry.refresh()
        let created = CreatedKey(
            id: row.id, key: key, prefix: row.prefix, name: name, systems: systems, kind: input.kind,
            createdAt: stamp, expiresAt: input.expiresAt)
        let response = try await created.encodeResponse(status: .created, for: req)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    @Sendable
    func list(_ req: Request) async throws -> [KeyView] {
        let stored = try await registry.store.keys().compactMap(GatewayRegistry.decode).map { key in
            KeyView(
                id: key.id, source: "admin", prefix: key.prefix, name: key.name, systems: key.systems, kind: key.kind,
                createdAt: key.createdAt, expiresAt: key.expiresAt, lastUsedAt: key.lastUsedAt,
                revokedAt: key.revokedAt)
        }
        let environment = environmentKeys.enumerated().map { index, key in
            let systems: [String] =
                switch key.entry.scope {
                case .allSystems: []
                case .systems(let ids): ids.sorted()
                }
            let variable = key.kind == .server ? "CHAT_GATEWAY_API_KEY" : "CHAT_GATEWAY_BROWSER_KEY"
            return KeyView(
                source: "environment", name: "\(variable) #\(index + 1)", systems: systems, kind: key.kind)
        }
        return environment + stored
    }

    @Sendable
    func revoke(_ req: Request) async throws -> HTTPStatus {
        guard let id = req.parameters.get("key_id").flatMap(UUID.init(uuidString:)) else {
            throw AdminError.keyNotFound
        }
        let stamp = now()
        let revoked = try await registry.store.revokeKey(
            id, at: stamp,
            audit: AuditEntry(
                at: stamp, actor: req.adminActor, action: "key.revoked",
                target: id.uuidString.lowercased(), detail: "revoked"))
        guard revoked else { throw AdminError.keyNotFound }
        try await registry.refresh()
        return .noContent
    }

    /// `cgk_` and 32 random base32 characters (160 bits).
    static func newKey() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var generator = SystemRandomNumberGenerator()
        return "cgk_" + String((0..<32).map { _ in alphabet[Int(generator.next(upperBound: UInt32(32)))] })
    }
}
