import Vapor

/// `POST /v1/chat`.
struct ChatController: RouteCollection {
    let auth: GatewayAuthenticator
    let turns: ChatTurns
    let features: AppFeatures
    let maxBodyBytes: Int

    func boot(routes: any RoutesBuilder) throws {
        routes.on(.POST, "chat", body: .collect(maxSize: ByteCount(value: maxBodyBytes)), use: chat)
    }

    @Sendable
    func chat(_ req: Request) async throws -> Response {
        // Who is asking comes first: an anonymous caller learns nothing from body validation.
        let credential = try await auth.credential(for: req)
        let body = try req.content.decode(ChatRequest.self)
        guard (body.message == nil) != (body.regenerate == nil) else {
            throw body.message == nil ? ChatError.messageRequired : ChatError.messageWithRegenerate
        }
        let caller = try auth.identity(credential, systemID: body.systemID, userID: body.userID)
        var turn = ChatTurns.Turn(
            message: body.message ?? "", conversationID: body.conversationID, inputs: body.inputs ?? [:])
        if let regenerate = body.regenerate {
            try await again(regenerate, into: &turn, as: caller)
        }
        if let files = body.files, !files.isEmpty {
            let (_, app) = try await features.app(for: caller)
            let validated = try ChatFiles.validated(files, rules: app.uploads)
            for url in validated.compactMap({ $0.objectValue?["url"]?.stringValue }) {
                do {
                    try await features.remoteFiles.check(URL(string: url)!)
                } catch {
                    throw MediaError.invalidFiles("url must name a public host that resolves")
                }
            }
            turn.extra["files"] = .array(validated)
        }
        let outcome = try await turns.run(
            turn, as: caller, streaming: body.stream ?? Self.acceptsEventStream(req),
            idempotencyKey: req.headers.first(name: IdempotencyRecord.header), logger: req.logger)
        let links = features.pages.sourceLinks(of: caller.systemID)
        return try outcome.response(
            to: req, keepAlive: turns.chats.limits.streamKeepAlive,
            encoder: { GatewayEventEncoder(turnID: $0, links: links) },
            answer: { answer in
                ChatResponse(
                    conversationID: answer.conversationID, messageID: answer.messageID, answer: answer.answer,
                    metadata: links.linked(metadata: answer.metadata ?? .object([:]))
                ).response(allocator: req.byteBufferAllocator)
            })
    }

    /// A regenerate: the question of the named answer, with its files, in its conversation, kept as one more
    /// attempt of its first one. Dify's Service API cannot branch a conversation, so the question is asked anew.
    private func again(_ rawID: String, into turn: inout ChatTurns.Turn, as caller: CallerIdentity) async throws {
        let messageID = try await features.access.message(rawID, of: caller, recordedOnly: true)
        guard let question = try await features.access.store.question(ofTurn: messageID) else {
            throw ChatError.messageNotFound
        }
        if let conversationID = turn.conversationID, !conversationID.isEmpty,
            CanonicalID.uuid(conversationID) != question.conversationID
        {
            throw ChatError.messageNotFound
        }
        turn.message = question.content
        turn.conversationID = question.conversationID
        if !question.files.isEmpty { turn.extra["files"] = .array(question.files) }
        turn.options.regenerates = question.regenerates ?? messageID
    }

    static func acceptsEventStream(_ req: Request) -> Bool {
        req.headers[.accept].contains { $0.lowercased().contains("text/event-stream") }
    }
}
