import Vapor

/// `POST /v1/chat`.
struct ChatController: RouteCollection {
    let auth: GatewayAuthenticator
    let admission: ChatAdmission
    let chats: ChatService
    let metrics: GatewayMetrics
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
        let streams = body.stream ?? Self.acceptsEventStream(req)
        let answer: DifyChatAnswer
        do {
            try await admission.admit(caller)
            if streams {
                let session = try await admission.stream(for: caller) {
                    try await chats.stream(
                        body.message, conversationID: body.conversationID, inputs: body.inputs ?? [:], as: caller,
                        logger: req.logger)
                }
                req.storage[ChatStreamSessionKey.self] = session
                return .chatStream(session, keepAlive: chats.limits.streamKeepAlive)
            }
            answer = try await chats.send(
                body.message, conversationID: body.conversationID, inputs: body.inputs ?? [:], as: caller,
                logger: req.logger)
        } catch let error as LimitError {
            // Limits, budgets and shutdown: refused before Dify was asked.
            metrics.chat(system: caller.systemID, mode: streams ? .stream : .blocking, outcome: .refused)
            throw error
        }
        return ChatResponse(
            conversationID: answer.conversationID, messageID: answer.messageID, answer: answer.answer,
            metadata: answer.metadata ?? .object([:])
        ).response(allocator: req.byteBufferAllocator)
    }

    static func acceptsEventStream(_ req: Request) -> Bool {
        req.headers[.accept].contains { $0.lowercased().contains("text/event-stream") }
    }
}
