import Foundation

/// The models `/openai/v1` offers a key: one per system with a Dify app, named by its `system_id` unless an operator
/// named it (`DIFY_<SYSTEM>_OPENAI_MODEL`, or the admin API's `openai_model`, which the environment overrides).
struct OpenAIModels: Sendable {
    struct Model: Sendable, Equatable {
        var id: String
        var systemID: String
        /// When an operator created the system; 0 for a system the environment configures.
        var created: Int
    }

    let systems: KnownSystems
    let targets: DifyTargetResolver
    let registry: GatewayRegistry
    /// `DIFY_<SYSTEM>_OPENAI_MODEL`, by the variable's `<SYSTEM>` segment.
    let environmentNames: [String: String]
    let allowedSystemIDs: Set<String>

    /// A name an operator may give a model: at most 128 characters, no white space or slash (it goes in a path).
    static func isValidName(_ name: String) -> Bool {
        name.count <= 128 && !name.contains { $0.isWhitespace || $0 == "/" }
    }

    /// The models `scope` may use, by id.
    func models(for scope: KeyScope) -> [Model] {
        let named: [Model] = systems.all.compactMap { systemID in
            guard scope.permits(systemID), allowedSystemIDs.isEmpty || allowedSystemIDs.contains(systemID),
                registry.systemInForce(systemID)?.enabled ?? true, (try? targets.target(forSystem: systemID)) != nil
            else { return nil }
            let managed = registry.systemInForce(systemID)
            let name =
                environmentNames[DifyTargetResolver.environmentSegment(for: systemID)] ?? managed?.openAIModel
                ?? systemID
            return Model(
                id: name, systemID: systemID, created: managed.map { Int($0.createdAt.timeIntervalSince1970) } ?? 0)
        }
        // Two systems of one name (a `system_id` another is named after): neither is offered by it.
        let counts = Dictionary(named.map { ($0.id, 1) }, uniquingKeysWith: +)
        return named.filter { counts[$0.id] == 1 }.sorted { $0.id < $1.id }
    }

    /// The model `id` names for `scope`: its name, or its system's id. Anything else is `model_not_found`.
    func model(_ id: String, for scope: KeyScope) throws(OpenAIError) -> Model {
        let offered = models(for: scope)
        guard let model = offered.first(where: { $0.id == id }) ?? offered.first(where: { $0.systemID == id }) else {
            throw .modelNotFound(id)
        }
        return model
    }
}
