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
        switch try await turns.run(
            turn, as: caller, streaming: body.stream ?? Self.acceptsEventStream(req), logger: req.logger)
        {
        case .stream(let session):
            req.storage[ChatStreamSessionKey.self] = session
            return .chatStream(session, keepAlive: turns.chats.limits.streamKeepAlive)
        case .answer(let answer):
            return ChatResponse(
                conversationID: answer.conversationID, messageID: answer.messageID, answer: answer.answer,
                metadata: answer.metadata ?? .object([:])
            ).response(allocator: req.byteBufferAllocator)
        }
    }

    static func acceptsEventStream(_ req: Request) -> Bool {
        req.headers[.accept].contains { $0.lowercased().contains("text/event-stream") }
    }
}
