import NIOConcurrencyHelpers
import Vapor

/// `/dify/v1`: Dify's own chat-app Service API, served by the gateway, so a Dify client or SDK switches by base URL
/// and key. Chats go through exactly what `/v1/chat` does (`ChatTurns`); conversations and messages are checked
/// against the gateway's records before Dify is asked; the rest is relayed, with the gateway's `user`.
struct DifyAPIController: RouteCollection {
    let access: DifyAccess
    let turns: ChatTurns
    let stopper: ChatStopper
    let maxBodyBytes: Int
    let maxUploadBytes: Int
    let uploads: ConcurrencyGate
    let now: @Sendable () -> Date

    func boot(routes: any RoutesBuilder) throws {
        let json = HTTPBodyStreamStrategy.collect(maxSize: ByteCount(value: maxBodyBytes))
        routes.on(.POST, "chat-messages", body: json, use: chat)
        routes.on(.POST, "chat-messages", ":task_id", "stop", body: json, use: stop)
        routes.get("conversations", use: conversations)
        routes.on(.DELETE, "conversations", ":conversation_id", body: json, use: deleteConversation)
        routes.on(.POST, "conversations", ":conversation_id", "name", body: json, use: rename)
        routes.get("messages", use: messages)
        routes.on(.POST, "messages", ":message_id", "feedbacks", body: json, use: feedback)
        routes.get("messages", ":message_id", "suggested", use: suggested)
        for endpoint in ["parameters", "meta", "info"] {
            routes.get(PathComponent(stringLiteral: endpoint)) { req in try await appInfo(req, endpoint: endpoint) }
        }
        routes.on(.POST, "files", "upload", body: .stream) { req in try await upload(req, endpoint: "files/upload") }
        routes.on(.POST, "audio-to-text", body: .stream) { req in try await upload(req, endpoint: "audio-to-text") }
        routes.on(.POST, "text-to-audio", body: json, use: textToAudio)
    }

    /// The operations of Dify's `openapi_chat.json` these routes serve, for `/openapi.json` (`OpenAPIDocument`).
    static let servedOperationIDs: Set<String> = [
        "sendChatMessage", "stopChatMessageGeneration", "getConversationHistory", "getSuggestedQuestions",
        "postChatMessageFeedback", "getConversationsList", "deleteConversation", "renameConversation",
        "getChatAppParameters", "getChatAppMeta", "getChatAppInfo", "uploadChatFile", "audioToText",
        "textToAudioChat",
    ]

    /// Whether `request` is one of this API's, answered in Dify's shapes.
    static func serves(_ request: Request) -> Bool {
        request.url.path == "/dify/v1" || request.url.path.hasPrefix("/dify/v1/")
    }

    // MARK: Chat

    @Sendable
    func chat(_ req: Request) async throws -> Response {
        let (key, body) = try keyAndBody(req)
        let caller = try access.auth.difyAPICaller(key, user: body["user"]?.stringValue)
        guard case .string(let query)? = body["query"] else { throw ChatError.emptyMessage }
        let streaming: Bool
        switch body["response_mode"] {
        case nil, .null, .string("blocking")?: streaming = false
        case .string("streaming")?: streaming = true
        default: throw DifyAPIError.invalidParameter("response_mode must be \"blocking\" or \"streaming\"")
        }
        let inputs: [String: JSONValue]
        switch body["inputs"] {
        case nil, .null: inputs = [:]
        case .object(let fields)?: inputs = fields
        default: throw DifyAPIError.invalidParameter("inputs must be an object")
        }
        let conversationID: String?
        switch body["conversation_id"] {
        case nil, .null: conversationID = nil
        case .string(let id)?: conversationID = id
        default: throw ChatError.invalidConversationID
        }
        let turn = ChatTurns.Turn(
            message: query, conversationID: conversationID, inputs: inputs,
            extra: body.filter { Self.passedChatFields.contains($0.key) })
        let outcome = try await turns.run(
            turn, as: caller, streaming: streaming, idempotencyKey: req.headers.first(name: IdempotencyRecord.header),
            wire: "dify", logger: req.logger)
        return try outcome.response(
            to: req, keepAlive: turns.chats.limits.streamKeepAlive, encoder: { _ in DifyEventEncoder() },
            answer: { Response.json(DifyWire.blockingBody($0), status: .ok) })
    }

    /// Dify's chat fields that the gateway passes on as they are.
    static let passedChatFields: Set<String> = ["files", "auto_generate_name", "workflow_id"]

    /// Dify answers success whatever the task; so does the gateway, but it asks Dify only for the caller's own.
    @Sendable
    func stop(_ req: Request) async throws -> Response {
        let (key, body) = try keyAndBody(req)
        let caller = try access.auth.difyAPICaller(key, user: body["user"]?.stringValue)
        do {
            try await stopper.stop(taskID: try req.parameters.require("task_id"), as: caller)
        } catch ChatError.taskNotFound {
        } catch {
            // The stream is already told to stop; Dify failing to hear it changes nothing for the client.
            req.logger.warning("stop not passed on to Dify", metadata: ["error": .string(String(describing: error))])
        }
        return Response.json(.object(["result": .string("success")]), status: .ok)
    }

    // MARK: Conversations and messages

    @Sendable
    func conversations(_ req: Request) async throws -> Response {
        let caller = try access.auth.difyAPICaller(req, user: Self.optionalUser(req.query["user"]))
        return try await relay(
            DifyPassthroughRequest(
                .GET, endpoint: "conversations", path: "conversations",
                query: [("user", caller.difyUser)] + Self.query(req, ["last_id", "limit", "sort_by"])),
            for: caller)
    }

    @Sendable
    func messages(_ req: Request) async throws -> Response {
        let caller = try access.auth.difyAPICaller(req, user: Self.optionalUser(req.query["user"]))
        guard let rawID: String = req.query["conversation_id"] else {
            throw DifyAPIError.invalidParameter("conversation_id is required")
        }
        let conversationID = try await access.conversation(rawID, of: caller, recordedOnly: true)
        return try await relay(
            DifyPassthroughRequest(
                .GET, endpoint: "messages", path: "messages",
                query: [("conversation_id", conversationID), ("user", caller.difyUser)]
                    + Self.query(req, ["first_id", "limit"])),
            for: caller)
    }

    @Sendable
    func deleteConversation(_ req: Request) async throws -> Response {
        let (_, caller, conversationID) = try await ownConversation(req)
        try await access.deleteConversation(conversationID, of: caller)
        return Response(status: .noContent)
    }

    /// Dify checks the name and generates one; the gateway keeps the name it ends with.
    @Sendable
    func rename(_ req: Request) async throws -> Response {
        var (body, caller, conversationID) = try await ownConversation(req)
        body["user"] = .string(caller.difyUser)
        let answer = try await access.dify.forward(
            DifyPassthroughRequest(
                .POST, endpoint: "conversations/:conversation_id/name", path: "conversations/\(conversationID)/name",
                body: .json(.object(body))),
            to: try access.target(for: caller))
        let renamed = try await Self.json(of: answer, for: caller)
        if case .object(let fields) = renamed {
            try await access.store.renameConversation(conversationID, to: fields["name"]?.stringValue, by: caller)
        }
        return Response.json(renamed, status: HTTPResponseStatus(statusCode: answer.status))
    }

    @Sendable
    func feedback(_ req: Request) async throws -> Response {
        let rawID = try Self.uuidParameter(req, "message_id")
        let (key, parsed) = try keyAndBody(req)
        var body = parsed
        let caller = try access.auth.difyAPICaller(key, user: body["user"]?.stringValue)
        let messageID = try await access.message(rawID, of: caller, recordedOnly: true)
        body["user"] = .string(caller.difyUser)
        let answer = try await access.dify.forward(
            DifyPassthroughRequest(
                .POST, endpoint: "messages/:message_id/feedbacks", path: "messages/\(messageID)/feedbacks",
                body: .json(.object(body))),
            to: try access.target(for: caller))
        if (200..<300).contains(answer.status) {
            try await access.store.recordFeedback(
                ofMessage: messageID, rating: body["rating"]?.stringValue, reason: body["content"]?.stringValue,
                by: caller)
        }
        return try await Self.relayed(answer, for: caller)
    }

    @Sendable
    func suggested(_ req: Request) async throws -> Response {
        let rawID = try Self.uuidParameter(req, "message_id")
        let caller = try access.auth.difyAPICaller(req, user: req.query["user"])
        let messageID = try await access.message(rawID, of: caller, recordedOnly: true)
        return try await relay(
            DifyPassthroughRequest(
                .GET, endpoint: "messages/:message_id/suggested", path: "messages/\(messageID)/suggested",
                query: [("user", caller.difyUser)]),
            for: caller)
    }

    // MARK: The app, files and audio

    /// `parameters`, `meta` and `info` are the app's, for no user in particular: relayed only as the JSON objects
    /// Dify answers, so no other body of whatever the URL reaches comes back.
    func appInfo(_ req: Request, endpoint: String) async throws -> Response {
        let caller = try access.auth.difyAPICaller(req, user: GatewayAuthenticator.difyDefaultUser)
        let answer = try await access.dify.forward(
            DifyPassthroughRequest(.GET, endpoint: endpoint, path: endpoint), to: try access.target(for: caller))
        guard answer.contentType?.lowercased().hasPrefix("application/json") ?? false,
            case .object(let fields) = try await Self.json(of: answer, for: caller)
        else { throw DifyError.malformedResponse("the app's \(endpoint) is not a JSON object") }
        return Response.json(.object(fields), status: HTTPResponseStatus(statusCode: answer.status))
    }

    /// `files/upload` and `audio-to-text`: the multipart body streams through, its `user` made the gateway's.
    func upload(_ req: Request, endpoint: String) async throws -> Response {
        // The key and the system are checked before a byte goes to Dify; the user, once its part arrives.
        let key = try access.auth.difyAPIKey(req)
        let system = try access.auth.difyAPICaller(key, user: GatewayAuthenticator.difyDefaultUser)
        let target = try access.target(for: system)
        let gateKey = system.rateKeyID ?? system.systemID
        try uploads.enter(key: gateKey)
        defer { uploads.release(key: gateKey) }
        let caller = CallerBox()
        let auth = access.auth
        let answer = try await MultipartForwarding.forward(
            req, endpoint: endpoint, to: target, dify: access.dify, limit: maxUploadBytes, now: now
        ) { user in
            let identity = try auth.difyAPICaller(key, user: Self.optionalUser(user))
            caller.set(identity)
            return identity.difyUser
        }
        return try await Self.relayed(answer, for: caller.value ?? system)
    }

    /// Audio comes back as Dify streams it.
    @Sendable
    func textToAudio(_ req: Request) async throws -> Response {
        let (key, parsed) = try keyAndBody(req)
        var body = parsed
        let caller = try access.auth.difyAPICaller(key, user: body["user"]?.stringValue)
        if let rawID = body["message_id"]?.stringValue {
            body["message_id"] = .string(try await access.message(rawID, of: caller, recordedOnly: true))
        }
        body["user"] = .string(caller.difyUser)
        return try await relay(
            DifyPassthroughRequest(.POST, endpoint: "text-to-audio", path: "text-to-audio", body: .json(.object(body))),
            for: caller)
    }

    // MARK: Relaying

    private func relay(_ request: DifyPassthroughRequest, for caller: CallerIdentity) async throws -> Response {
        try await Self.relayed(try await access.dify.forward(request, to: try access.target(for: caller)), for: caller)
    }

    /// JSON is read, given back the client's `user` and sent; anything else (audio) streams through.
    static func relayed(_ answer: DifyPassthroughResponse, for caller: CallerIdentity) async throws -> Response {
        let status = HTTPResponseStatus(statusCode: answer.status)
        guard answer.contentType?.lowercased().hasPrefix("application/json") ?? false else {
            var headers = HTTPHeaders()
            if let type = answer.contentType { headers.replaceOrAdd(name: .contentType, value: type) }
            if status == .noContent { return Response(status: status) }
            return Response(
                status: status, headers: headers,
                body: .init(asyncStream: { writer in
                    do {
                        for try await chunk in answer.body { try await writer.write(.buffer(chunk)) }
                        try await writer.write(.end)
                    } catch {
                        try? await writer.write(.error(error))
                    }
                }))
        }
        return Response.json(try await Self.json(of: answer, for: caller), status: status)
    }

    static func json(of answer: DifyPassthroughResponse, for caller: CallerIdentity) async throws -> JSONValue {
        let bytes = try await answer.collect()
        guard bytes.readableBytes > 0 else { return .object([:]) }
        guard let json = try? JSONDecoder().decode(JSONValue.self, from: bytes) else {
            throw DifyError.malformedResponse("the answer is not JSON")
        }
        return DifyWire.withClientUser(json, difyUser: caller.difyUser, user: caller.userID)
    }

    // MARK: Reading requests

    /// The caller's key, then the JSON object body every JSON route of Dify's requires: Dify looks at the key first.
    func keyAndBody(_ req: Request) throws -> (DifyAPIKey, [String: JSONValue]) {
        let key = try access.auth.difyAPIKey(req)
        guard let data = req.body.data, data.readableBytes > 0,
            case .object(let fields)? = try? JSONDecoder().decode(JSONValue.self, from: data)
        else { throw DifyAPIError.invalidJSON }
        return (key, fields)
    }

    /// For the routes on one conversation (`user` optional): the body, the caller, and the caller's own
    /// conversation in the path.
    private func ownConversation(
        _ req: Request
    ) async throws -> (body: [String: JSONValue], caller: CallerIdentity, conversationID: String) {
        let rawID = try Self.uuidParameter(req, "conversation_id")
        let (key, body) = try keyAndBody(req)
        let caller = try access.auth.difyAPICaller(key, user: Self.optionalUser(body["user"]?.stringValue))
        return (body, caller, try await access.conversation(rawID, of: caller, recordedOnly: true))
    }

    /// Dify's `DEFAULT-USER` where Dify lets `user` be left out.
    static func optionalUser(_ user: String?) -> String {
        guard let user, !user.isEmpty else { return GatewayAuthenticator.difyDefaultUser }
        return user
    }

    static func query(_ req: Request, _ names: [String]) -> [(name: String, value: String)] {
        names.compactMap { name in (req.query[String.self, at: name]).map { (name, $0) } }
    }

    /// Dify's routes take only UUIDs here (werkzeug's converter): anything else is its 404 for an unknown URL.
    /// Handlers read it first, as Dify matches the route before it looks at the key or the body.
    static func uuidParameter(_ req: Request, _ name: String) throws -> String {
        guard let raw = req.parameters.get(name), CanonicalID.uuid(raw) != nil else { throw DifyAPIError.urlNotFound }
        return raw
    }
}

/// The caller an upload turned out to be for, learnt while its body streams.
private final class CallerBox: Sendable {
    private let identity = NIOLockedValueBox<CallerIdentity?>(nil)

    func set(_ caller: CallerIdentity) { identity.withLockedValue { $0 = caller } }
    var value: CallerIdentity? { identity.withLockedValue { $0 } }
}
