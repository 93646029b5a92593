import Vapor

/// `POST /v1/chat`.
struct ChatController: RouteCollection {
    let auth: GatewayAuthenticator
    let turns: ChatTurns
    let maxBodyBytes: Int

    func boot(routes: any RoutesBuilder) throws {
        routes.on(.POST, "chat", body: .collect(maxSize: ByteCount(value: maxBodyBytes)), use: chat)
    }

    @Sendable
    func chat(_ req: Request) async throws -> Response {
        // Who is asking comes first: an anonymous caller learns nothing from body validation.
        let credential = try await auth.credential(for: req)
        let body = try req.content.decode(ChatRequest.self)
        let caller = try auth.identity(credential, systemID: body.systemID, userID: body.userID)
        let turn = ChatTurns.Turn(
            message: body.message, conversationID: body.conversationID, inputs: body.inputs ?? [:])
        let outcome = try await turns.run(
            turn, as: caller, streaming: body.stream ?? Self.acceptsEventStream(req),
            idempotencyKey: req.headers.first(name: IdempotencyRecord.header), logger: req.logger)
        return try outcome.response(
            to: req, keepAlive: turns.chats.limits.streamKeepAlive, encoder: { GatewayEventEncoder(turnID: $0) },
            answer: { answer in
                ChatResponse(
                    conversationID: answer.conversationID, messageID: answer.messageID, answer: answer.answer,
                    metadata: answer.metadata ?? .object([:])
                ).response(allocator: req.byteBufferAllocator)
            })
    }

    static func acceptsEventStream(_ req: Request) -> Bool {
        req.headers[.accept].contains { $0.lowercased().contains("text/event-stream") }
    }
}
