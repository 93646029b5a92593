/// The systems the gateway is configured for, and so the only `system` label values besides `other`:
/// `ALLOWED_SYSTEM_IDS`, the systems of `DIFY_<SYSTEM>_*` and of scoped keys, and those of the admin API.
struct KnownSystems: Sendable {
    let configured: Set<String>
    let registry: GatewayRegistry
    /// No `ALLOWED_SYSTEM_IDS`: any system a Dify serves may chat.
    let allowsAnySystem: Bool

    init(settings: Settings, environmentSystemIDs: [String], registry: GatewayRegistry) {
        var configured = settings.allowedSystemIDs.union(environmentSystemIDs)
        for entry in settings.apiKeys + settings.browserKeys {
            if case .systems(let ids) = entry.scope { configured.formUnion(ids) }
        }
        self.configured = configured
        self.registry = registry
        allowsAnySystem = settings.allowedSystemIDs.isEmpty
    }

    func contains(_ systemID: String) -> Bool {
        configured.contains(systemID) || registry.system(systemID) != nil
    }

    /// Whether the gateway serves the system: configured, or any system a Dify (the shared one) answers for.
    func serves(_ systemID: String, targets: DifyTargetResolver) -> Bool {
        contains(systemID) || (allowsAnySystem && (try? targets.target(forSystem: systemID)) != nil)
    }

    var all: [String] { configured.union(registry.current.systems.keys).sorted() }
}
