import Foundation

/// The client systems the environment configures, read-only through the admin API: each system a
/// `DIFY_<SYSTEM>_*` pair names, each id of `ALLOWED_SYSTEM_IDS`, and `*` for the shared `DIFY_BASE_URL` /
/// `DIFY_API_KEY` app that serves every other id. Only the first kind wins over a system defined as data.
struct EnvironmentSystems: Sendable {
    /// Resolves with the environment only, for what the listing shows.
    let environmentTargets: DifyTargetResolver
    /// Resolves as chats do, the admin API's systems included.
    let targets: DifyTargetResolver
    let allowedSystemIDs: Set<String>
    let origins: [String]
    let registry: GatewayRegistry

    func defines(_ systemID: String) -> Bool { environmentTargets.isOverridden(systemID) }

    /// Whether the listing shows this id as the environment's (and so whether it can be checked).
    func lists(_ systemID: String) -> Bool { views().contains { $0.systemID == systemID } }

    func views() -> [SystemView] {
        var ids = Set(environmentTargets.overriddenSystemIDs)
        for id in allowedSystemIDs where registry.system(id) == nil { ids.insert(id) }
        var views = ids.sorted().map { id in
            SystemView(
                environmentSystem: id, target: try? environmentTargets.target(forSystem: id), origins: origins,
                alsoDefinedByAdmin: registry.system(id) != nil)
        }
        if environmentTargets.hasSharedApp {
            views.append(
                SystemView(
                    environmentSystem: "*", target: try? environmentTargets.target(forSystem: "*"), origins: origins,
                    alsoDefinedByAdmin: false))
        }
        return views
    }
}
