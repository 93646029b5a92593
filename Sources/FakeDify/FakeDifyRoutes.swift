import Vapor

/// Mounts Dify's chat-app Service API under `<routes>/v1`, backed by `store`. Every route answers
/// Dify's own error bodies, so it works mounted in any app (FakeDifyServer's, or a gateway in demo mode).
public func registerFakeDifyRoutes(on routes: any RoutesBuilder, store: FakeDifyStore) {
    FakeDifyRoutes(store: store).register(on: routes.grouped("v1"))
}

struct FakeDifyRoutes: Sendable {
    let store: FakeDifyStore

    /// Dify's routes, for telling werkzeug's 405 (path known, method not) from its 404.
    /// `<uuid>` is werkzeug's uuid converter, `<string>` any one segment.
    static let table: [(method: HTTPMethod, path: [String])] = [
        (.POST, ["chat-messages"]), (.POST, ["chat-messages", "<string>", "stop"]),
        (.GET, ["conversations"]), (.DELETE, ["conversations", "<uuid>"]),
        (.POST, ["conversations", "<uuid>", "name"]), (.GET, ["messages"]),
        (.POST, ["messages", "<uuid>", "feedbacks"]), (.GET, ["messages", "<uuid>", "suggested"]),
        (.GET, ["parameters"]), (.GET, ["meta"]), (.GET, ["info"]),
        (.POST, ["files", "upload"]), (.POST, ["audio-to-text"]), (.POST, ["text-to-audio"]),
    ]

    typealias Handler = @Sendable (Request) async throws -> Response

    func register(on v1: any RoutesBuilder) {
        // Chat queries and inputs can be long; Vapor's default 16 KB would reject them.
        let body = HTTPBodyStreamStrategy.collect(maxSize: "10mb")
        let store = self.store
        func on(_ method: HTTPMethod, _ path: PathComponent..., handler: @escaping Handler) {
            v1.on(method, path, body: body) { req in
                await store.countRequest()
                return try await difyRespond { try await handler(req) }
            }
        }
        // Uploads up to Dify's largest default limit (video's), so a too-large file gets Dify's own 413.
        let files = HTTPBodyStreamStrategy.collect(maxSize: "110mb")
        func upload(_ path: PathComponent..., handler: @escaping Handler) {
            v1.on(.POST, path, body: files) { req in
                await store.countRequest()
                return try await difyRespond { try await handler(req) }
            }
        }
        on(.POST, "chat-messages") { try await handleChatMessages($0, store: store) }
        on(.POST, "chat-messages", ":task_id", "stop") { try await stop($0) }
        on(.GET, "conversations") { try await listConversations($0) }
        on(.DELETE, "conversations", ":conversation_id") { try await deleteConversation($0) }
        on(.POST, "conversations", ":conversation_id", "name") { try await renameConversation($0) }
        on(.GET, "messages") { try await listMessages($0) }
        on(.POST, "messages", ":message_id", "feedbacks") { try await feedback($0) }
        on(.GET, "messages", ":message_id", "suggested") { try await suggested($0) }
        on(.GET, "parameters") { try await appInfo($0, FakeDifyAppInfo.parameters) }
        on(.GET, "meta") { try await appInfo($0) { _ in FakeDifyAppInfo.meta } }
        on(.GET, "info") { try await appInfo($0) { _ in FakeDifyAppInfo.info } }
        upload("files", "upload") { try await self.upload($0) }
        upload("audio-to-text") { try await audioToText($0) }
        on(.POST, "text-to-audio") { try await textToAudio($0) }
        for method in [HTTPMethod.GET, .POST, .PUT, .PATCH, .DELETE] {
            on(method, "**") { req in throw Self.unmatched(method: req.method, path: req.parameters.getCatchall()) }
        }
    }

    /// What werkzeug answers when no route matches: 405 (with `Allow`) if the path exists for
    /// other methods, else 404.
    static func unmatched(method: HTTPMethod, path: [String]) -> DifyError {
        let methods = table.filter { route in
            route.path.count == path.count
                && zip(route.path, path).allSatisfy { pattern, segment in
                    switch pattern {
                    case "<uuid>": isStrictUUID(segment)
                    case "<string>": !segment.isEmpty
                    default: pattern == segment
                    }
                }
        }.map(\.method.rawValue)
        guard !methods.isEmpty else { return DifyError.urlNotFound }
        // Flask adds OPTIONS to every rule and HEAD to GET rules.
        let allowed = Set(methods + ["OPTIONS"] + (methods.contains("GET") ? ["HEAD"] : []))
        var error = DifyError.methodNotAllowed
        error.headers = [("Allow", allowed.sorted().joined(separator: ", "))]
        return error
    }
}
