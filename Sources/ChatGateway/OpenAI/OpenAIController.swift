import Foundation
import Vapor

/// `/openai/v1`: OpenAI's Chat Completions API over the systems' Dify apps, so any OpenAI client can use one through
/// the gateway. A chat goes through exactly what `/v1/chat` does (`ChatTurns`); what is OpenAI's own is reading the
/// stateless request (`OpenAIChatRequest`), finding its Dify conversation (`OpenAIConversations`) and the shapes at
/// the edge (`OpenAIWire`).
struct OpenAIController: RouteCollection {
    let auth: GatewayAuthenticator
    let models: OpenAIModels
    let turns: ChatTurns
    let conversations: OpenAIConversations
    let endUsers: OpenAIEndUser
    let parameters: AppParameters
    let images: OpenAIImages
    let targets: DifyTargetResolver
    let maxBodyBytes: Int
    let now: @Sendable () -> Date

    static let ignoredHeader = "X-Gateway-Ignored-Parameters"
    static let conversationMatchHeader = "X-Gateway-Conversation"
    /// Headers that name the client's conversation, in the order they win; then `metadata.conversation_id`.
    static let conversationKeyHeaders = ["X-Conversation-Id", "X-OpenWebUI-Chat-Id"]
    /// Headers that mark an auxiliary request (a title, tags, follow-ups).
    static let taskHeaders = ["X-Gateway-Task", "X-OpenWebUI-Task"]
    static let reasoningHeader = "X-Gateway-Reasoning"

    func boot(routes: any RoutesBuilder) throws {
        routes.get("models", use: listModels)
        routes.get("models", ":model", use: model)
        routes.on(
            .POST, "chat", "completions", body: .collect(maxSize: ByteCount(value: maxBodyBytes)), use: chat)
    }

    /// Whether `request` is one of this API's, answered in OpenAI's shapes.
    static func serves(_ request: Request) -> Bool {
        request.url.path == "/openai/v1" || request.url.path.hasPrefix("/openai/v1/")
    }

    // MARK: Models

    @Sendable
    func listModels(_ req: Request) async throws -> Response {
        let (scope, _) = try auth.bearerServerKey(req)
        return Response.json(
            .object(["object": .string("list"), "data": .array(models.models(for: scope).map(Self.object(of:)))]))
    }

    @Sendable
    func model(_ req: Request) async throws -> Response {
        let (scope, _) = try auth.bearerServerKey(req)
        return Response.json(Self.object(of: try models.model(try req.parameters.require("model"), for: scope)))
    }

    private static func object(of model: OpenAIModels.Model) -> JSONValue {
        .object([
            "id": .string(model.id), "object": .string("model"), "created": .number(Double(model.created)),
            "owned_by": .string("chat-gateway"),
        ])
    }

    // MARK: Chat completions

    @Sendable
    func chat(_ req: Request) async throws -> Response {
        let (scope, keyID) = try auth.bearerServerKey(req)
        guard let data = req.body.data, case .object(let body)? = try? JSONDecoder().decode(JSONValue.self, from: data)
        else {
            throw OpenAIError.invalidRequest(
                "The body must be a JSON object (Content-Type: application/json)", param: nil)
        }
        let request = try OpenAIChatRequest(body)
        let model = try models.model(request.model, for: scope)
        let userID = try await endUsers.userID(for: req, bodyUser: request.user, keyID: keyID)
        let caller = try auth.identity(.apiKey(scope, keyID: keyID), systemID: model.systemID, userID: userID)
        let target = try targets.target(forSystem: caller.systemID)
        let isTask = Self.isTask(req, request)
        let key = isTask ? nil : conversationKey(req, request)

        var ignored = request.ignored
        var inputs: [String: JSONValue] = [:]
        let app = await appParameters(of: target, if: request.systemText != nil || !request.imageURLs.isEmpty, req)
        if let system = request.systemText {
            if app?.inputVariables.contains("system_prompt") == true {
                inputs["system_prompt"] = .string(system)
            } else {
                ignored.append("system_message")
            }
        }
        let images = try OpenAIImages.read(request.imageURLs, app: app)
        let (conversationID, match) =
            isTask ? (nil, .new) : try await conversations.resolve(key: key, history: request.history, for: caller)

        var turn = ChatTurns.Turn(message: request.message, conversationID: conversationID, inputs: inputs)
        turn.options.isTask = isTask
        if match == .transcript {
            turn.options.difyQuery = OpenAIConversations.transcript(of: request.history, then: request.message)
        }
        if !images.isEmpty {
            turn.options.files = { [uploader = self.images, difyUser = caller.difyUser] in
                try await uploader.files(images, target: target, difyUser: difyUser)
            }
        }
        turn.options.fingerprint = .object([
            "wire": .string("openai"), "system_id": .string(caller.systemID), "user_id": .string(caller.userID),
            "body": .object(request.body), "conversation_key": key.map(JSONValue.string) ?? .null,
            "task": .bool(isTask),
        ])
        let spoken = request.history + [.init(role: "user", text: request.message)]
        turn.options.whenEnded = whenEnded(
            spoken, continuing: match == .continued ? conversationID : nil, key: key, isTask: isTask, caller: caller,
            target: target, logger: req.logger)

        let outcome = try await turns.run(
            turn, as: caller, streaming: request.stream,
            idempotencyKey: req.headers.first(name: IdempotencyRecord.header), wire: "openai", logger: req.logger)
        let created = try await createdAt(of: outcome)
        let reasoning = req.headers.first(name: Self.reasoningHeader)?.lowercased() == "true"
        let response = try outcome.response(
            to: req, keepAlive: turns.chats.limits.streamKeepAlive,
            encoder: { id in
                OpenAIEventEncoder(
                    wire: OpenAIWire(turnID: id, created: created, model: request.model),
                    includeUsage: request.includeUsage, reasoning: reasoning)
            },
            answer: { answer in
                let wire = OpenAIWire(turnID: outcome.turnID, created: created, model: request.model)
                let response = Response.json(wire.completion(content: answer.answer, metadata: answer.metadata))
                // A task's conversation is deleted once answered.
                if !isTask { response.headers.replaceOrAdd(name: "X-Conversation-Id", value: answer.conversationID) }
                return response
            })
        if let conversationID { response.headers.replaceOrAdd(name: "X-Conversation-Id", value: conversationID) }
        response.headers.replaceOrAdd(name: Self.conversationMatchHeader, value: isTask ? "task" : match.rawValue)
        if !ignored.isEmpty {
            response.headers.replaceOrAdd(name: Self.ignoredHeader, value: ignored.joined(separator: ", "))
        }
        return response
    }

    /// What follows a turn's end, before the client sees it: a task's Dify conversation is deleted, so it stays out
    /// of the user's history; a chat's conversation is remembered by its history (and key) for the next request,
    /// and one Dify no longer has is forgotten, so the next request starts afresh.
    private func whenEnded(
        _ spoken: [OpenAIChatRequest.Message], continuing: String?, key: String?, isTask: Bool, caller: CallerIdentity,
        target: DifyTarget, logger: Logger
    ) -> @Sendable (TurnEnding, [TurnLog.Entry]) async -> Void {
        let (conversations, dify) = (conversations, images.dify)
        return { ending, entries in
            do {
                switch ending {
                case .completed(let ids, _, _, _) where isTask, .failed(_, let ids?) where isTask:
                    try await dify.deleteConversation(ids.conversationID, user: caller.difyUser, at: target)
                case .completed(let ids, let answer, _, _):
                    let content = entries.isEmpty ? answer : OpenAIWire.content(of: entries)
                    try await conversations.remember(
                        ids.conversationID, key: key, history: spoken + [.init(role: "assistant", text: content)],
                        for: caller)
                case .failed(.upstream(404, _, _), _):
                    if let continuing { try await conversations.forget(continuing) }
                default:
                    break
                }
            } catch {
                logger.warning(
                    "an OpenAI conversation's follow-up failed", metadata: ["error": .string(String(describing: error))]
                )
            }
        }
    }

    /// The app's parameters when the request needs them; nil when Dify could not say (the chat goes on, and Dify
    /// decides).
    private func appParameters(
        of target: DifyTarget, if needed: Bool, _ req: Request
    ) async -> AppParameters.Parameters? {
        guard needed else { return nil }
        do {
            return try await parameters.parameters(of: target)
        } catch {
            req.logger.warning(
                "the app's parameters could not be read", metadata: ["error": .string(String(describing: error))])
            return nil
        }
    }

    /// The `created` of the turn's answer: when the user's message was stored.
    private func createdAt(of outcome: ChatTurns.Outcome) async throws -> Date {
        if case .stream(_, _, let running?, _) = outcome { return running.createdAt }
        guard let rowID = UUID(uuidString: outcome.turnID) else { return now() }
        return try await turns.readers.store.turn(rowID)?.createdAt ?? now()
    }

    /// The client's name for its conversation; an empty one, or LibreChat's `new` before it has one, names none.
    private func conversationKey(_ req: Request, _ request: OpenAIChatRequest) -> String? {
        let candidates = Self.conversationKeyHeaders.map { req.headers.first(name: $0) } + [request.conversationKey]
        return candidates.lazy.compactMap { $0?.trimmingCharacters(in: .whitespaces) }
            .first { !$0.isEmpty && $0 != "new" }
    }

    /// A client's auxiliary request: marked by a header, or Open WebUI's and LibreChat's own task prompts.
    static func isTask(_ req: Request, _ request: OpenAIChatRequest) -> Bool {
        if taskHeaders.contains(where: {
            !(req.headers.first(name: $0) ?? "").trimmingCharacters(in: .whitespaces).isEmpty
        }) {
            return true
        }
        guard request.history.isEmpty else { return false }
        return (!request.stream && request.message.hasPrefix("### Task:"))
            || request.message.hasPrefix("Provide a concise, 5-word-or-less title for the conversation")
    }
}

extension ChatTurns.Outcome {
    var turnID: String {
        switch self {
        case .stream(_, let id, _, _), .answer(_, let id, _), .failure(_, let id): id
        }
    }
}
