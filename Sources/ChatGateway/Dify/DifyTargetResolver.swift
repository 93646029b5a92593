import Foundation

/// Picks the Dify app for a system: `DIFY_<SYSTEM>_BASE_URL` / `DIFY_<SYSTEM>_API_KEY` when set, else the
/// system's own app defined through the admin API, falling back to the shared `DIFY_BASE_URL` / `DIFY_API_KEY`.
/// An admin-set URL goes only with the admin-set key: never the environment's.
public struct DifyTargetResolver: Sendable {
    private let sharedBaseURL: URL?
    private let sharedAPIKey: String?
    private let overrides: [String: Settings.DifyOverride]
    private let registry: GatewayRegistry?

    public init(sharedBaseURL: URL?, sharedAPIKey: String?, overrides: [String: Settings.DifyOverride] = [:]) {
        self.init(sharedBaseURL: sharedBaseURL, sharedAPIKey: sharedAPIKey, overrides: overrides, registry: nil)
    }

    init(
        sharedBaseURL: URL?, sharedAPIKey: String?, overrides: [String: Settings.DifyOverride],
        registry: GatewayRegistry?
    ) {
        self.sharedBaseURL = sharedBaseURL
        self.sharedAPIKey = sharedAPIKey
        self.overrides = overrides
        self.registry = registry
    }

    /// The same resolver reading the admin API's systems too.
    func reading(_ registry: GatewayRegistry) -> DifyTargetResolver {
        DifyTargetResolver(
            sharedBaseURL: sharedBaseURL, sharedAPIKey: sharedAPIKey, overrides: overrides, registry: registry)
    }

    /// Whether `DIFY_<SYSTEM>_BASE_URL` or `DIFY_<SYSTEM>_API_KEY` names this system.
    func isOverridden(_ systemID: String) -> Bool { overrides[Self.environmentSegment(for: systemID)] != nil }

    /// The system ids the `DIFY_<SYSTEM>_*` variables name, read back from their segments (`COIN_TUTOR` →
    /// `coin-tutor`).
    var overriddenSystemIDs: [String] {
        overrides.keys.map { $0.lowercased().replacingOccurrences(of: "_", with: "-") }.sorted()
    }

    var hasSharedApp: Bool { sharedBaseURL != nil && sharedAPIKey != nil }

    /// `cointutor` → `COINTUTOR`, `coin-tutor` → `COIN_TUTOR`.
    public static func environmentSegment(for systemID: String) -> String {
        systemID.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    public func target(forSystem systemID: String) throws(DifyError) -> DifyTarget {
        let override = overrides[Self.environmentSegment(for: systemID)]
        var managedURL: URL?
        var managedKey: String?
        if let system = registry?.systemInForce(systemID) {
            switch system.difyKey {
            case .unreadable: throw .keyUnreadable(systemID: systemID)
            case .key(let key): managedKey = key
            case .none: break
            }
            managedURL = system.difyBaseURL
        }
        if override?.baseURL == nil, let managedURL {
            // The environment's key never goes to a host an admin chose.
            guard let managedKey else { throw .notConfigured(systemID: systemID) }
            return DifyTarget(baseURL: managedURL, apiKey: managedKey, systemID: systemID, isAdminSet: true)
        }
        guard let baseURL = override?.baseURL ?? sharedBaseURL,
            let key = override?.apiKey ?? managedKey ?? sharedAPIKey
        else {
            throw .notConfigured(systemID: systemID)
        }
        return DifyTarget(baseURL: baseURL, apiKey: key, systemID: systemID)
    }
}
