import Foundation
import Logging
import NIOConcurrencyHelpers
import Vapor

/// The systems and keys defined through the admin API, as this replica holds them. It reads them again whenever
/// the registry version moves: polled every second, so a change made on any replica is in force everywhere within
/// two seconds, and at once on the replica that made it.
final class GatewayRegistry: Sendable {
    struct Snapshot: Sendable {
        var version: Int64 = -1
        var systems: [String: ManagedSystem] = [:]
        var keysByHash: [String: ManagedKey] = [:]
        /// The same keys by id, for the chat tokens that name the key that minted them.
        var keysByID: [UUID: ManagedKey] = [:]
    }

    let store: AdminStore
    let sealer: SecretSealer?
    /// Systems the environment's `DIFY_<SYSTEM>_*` variables configure: their values win over these tables'.
    let environmentSystemIDs: Set<String>
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let snapshot = NIOLockedValueBox(Snapshot())
    /// When each key's use was last noted, and the uses not yet written.
    private let uses = NIOLockedValueBox<(noted: [UUID: Date], unwritten: [UUID: Date])>(([:], [:]))

    init(
        store: AdminStore, sealer: SecretSealer?, environmentSystemIDs: Set<String>,
        now: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.store = store
        self.sealer = sealer
        self.environmentSystemIDs = environmentSystemIDs
        self.now = now
        self.logger = logger
    }

    var current: Snapshot { snapshot.withLockedValue { $0 } }

    /// The admin-defined system whose settings apply: nil when there is none, or when the environment defines the
    /// same id (its values then win).
    func systemInForce(_ systemID: String) -> ManagedSystem? {
        environmentSystemIDs.contains(systemID) ? nil : system(systemID)
    }

    /// The admin-defined origins of a system in force, when it has some.
    func allowedOrigins(of systemID: String) -> [String]? {
        guard let system = systemInForce(systemID), !system.allowedOrigins.isEmpty else { return nil }
        return system.allowedOrigins
    }

    func system(_ systemID: String) -> ManagedSystem? { snapshot.withLockedValue { $0.systems[systemID] } }

    /// The usable data key equal to `presented`, if any. Keys are found by their SHA-256, so no stored secret is
    /// compared byte by byte.
    func key(presented: String) -> ManagedKey? {
        let hash = Self.hash(presented)
        guard let key = snapshot.withLockedValue({ $0.keysByHash[hash] }), key.isUsable(at: now()) else { return nil }
        noteUse(of: key)
        return key
    }

    /// Whether the data key with this id may still be used: false once it is revoked, expired or deleted, so the
    /// chat tokens it minted stop working within the registry's refresh.
    func isUsableKey(id: UUID) -> Bool {
        snapshot.withLockedValue { $0.keysByID[id] }?.isUsable(at: now()) ?? false
    }

    static func hash(_ key: String) -> String { key.sha256Hex }

    /// Reads the tables again if the version moved since the last read.
    func refresh() async throws {
        let version = try await store.version()
        guard version != current.version else { return }
        let systems = try await store.systems().map(decode)
        let keys = try await store.keys().compactMap(Self.decode)
        snapshot.withLockedValue { snapshot in
            guard version > snapshot.version else { return }
            snapshot = Snapshot(
                version: version, systems: Dictionary(uniqueKeysWithValues: systems.map { ($0.systemID, $0) }),
                keysByHash: Dictionary(keys.map { ($0.keyHash, $0) }, uniquingKeysWith: { first, _ in first }),
                keysByID: Dictionary(keys.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }))
        }
    }

    private func decode(_ row: AdminStore.SystemRow) -> ManagedSystem {
        let difyKey: ManagedSystem.DifyKey
        switch (row.difyAPIKeySealed, sealer) {
        case (nil, _): difyKey = .none
        case (let sealed?, let sealer?): difyKey = sealer.open(sealed).map { .key($0) } ?? .unreadable
        case (_?, nil): difyKey = .unreadable
        }
        if difyKey == .unreadable {
            logger.error(
                "a system's Dify key cannot be decrypted with CHAT_GATEWAY_ENCRYPTION_KEY: it answers 503",
                metadata: ["system_id": .string(row.systemID)])
        }
        let origins = AdminStore.list(fromText: row.allowedOrigins)
        let budgetFields = row.budget.flatMap {
            try? JSONDecoder().decode(SystemBudgetFields.self, from: Data($0.utf8))
        }
        return ManagedSystem(
            systemID: row.systemID, name: row.name, difyBaseURL: row.difyBaseURL.flatMap(URL.init(string:)),
            difyKey: difyKey, difyKeyHint: row.difyAPIKeyHint, allowedOrigins: origins, enabled: row.enabled,
            rateLimitPerUser: row.rateLimitPerUser, maxStreamsPerUser: row.maxStreamsPerUser,
            budget: try? budgetFields?.budget(), budgetFields: budgetFields, openAIModel: row.openAIModel,
            sourceLinks: SourceLinks(
                links: row.sourceLinks.flatMap { try? JSONDecoder().decode([SourceLink].self, from: Data($0.utf8)) }
                    ?? []),
            inlineMath: row.inlineMath ?? false, retentionDays: row.retentionDays,
            retentionDeleteInDify: row.retentionDeleteInDify ?? false, selfExport: row.selfExport ?? false,
            createdAt: row.createdAt,
            updatedAt: row.updatedAt)
    }

    static func decode(_ row: AdminStore.KeyRow) -> ManagedKey? {
        guard let kind = ManagedKey.Kind(rawValue: row.kind) else { return nil }
        return ManagedKey(
            id: row.id, keyHash: row.keyHash, prefix: row.prefix, name: row.name,
            systems: AdminStore.list(fromText: row.systems), kind: kind,
            createdAt: row.createdAt, expiresAt: row.expiresAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt)
    }

    /// `last_used_at` moves at most once a minute per key; the polling writes it, never the request.
    private func noteUse(of key: ManagedKey) {
        let stamp = now()
        uses.withLockedValue { uses in
            guard uses.noted[key.id].map({ stamp.timeIntervalSince($0) >= 60 }) ?? true else { return }
            uses.noted[key.id] = stamp
            uses.unwritten[key.id] = stamp
        }
    }

    /// Writes the key uses noted since the last call.
    func writeKeyUses() async {
        let unwritten = uses.withLockedValue { uses in
            defer { uses.unwritten = [:] }
            return uses.unwritten
        }
        for (id, stamp) in unwritten {
            do { try await store.touchKey(id, at: stamp) } catch {
                logger.warning("could not record a key's last use", metadata: ["key_id": .string(id.uuidString)])
            }
        }
    }
}

/// Keeps the registry current while the gateway serves: read once at boot (after the migrations), then every
/// `interval`. Other commands (`gen-jwt`, `migrate`...) leave the database alone.
struct RegistryPolling: LifecycleHandler {
    let registry: GatewayRegistry
    var interval: Duration = .seconds(1)
    private let loop = BackgroundLoop()

    init(registry: GatewayRegistry, interval: Duration = .seconds(1)) {
        self.registry = registry
        self.interval = interval
    }

    func didBootAsync(_ application: Application) async throws {
        guard ChatGatewayEntrypoint.isServing(application.environment) else { return }
        try await registry.refresh()
        let (registry, interval, logger) = (registry, interval, application.logger)
        loop.start(every: interval) {
            await registry.writeKeyUses()
            do { try await registry.refresh() } catch {
                logger.warning("could not re-read the admin registry", metadata: ["error": "\(type(of: error))"])
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        await loop.stop()
        await registry.writeKeyUses()
    }
}
