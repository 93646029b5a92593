import Vapor

/// `POST /v1/chat`.
struct ChatController: RouteCollection {
    let auth: GatewayAuthenticator
    let admission: ChatAdmission
    let chats: ChatService
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
        try await admission.admit(caller)
        if body.stream ?? Self.acceptsEventStream(req) {
            let session = try await admission.stream(for: caller) {
                try await chats.stream(
                    body.message, conversationID: body.conversationID, inputs: body.inputs ?? [:], as: caller,
                    logger: req.logger)
            }
            return .chatStream(session, keepAlive: chats.limits.streamKeepAlive)
        }
        let answer = try await chats.send(
            body.message, conversationID: body.conversationID, inputs: body.inputs ?? [:], as: caller,
            logger: req.logger)
        return ChatResponse(
            conversationID: answer.conversationID, messageID: answer.messageID, answer: answer.answer,
            metadata: answer.metadata ?? .object([:])
        ).response(allocator: req.byteBufferAllocator)
    }

    static func acceptsEventStream(_ req: Request) -> Bool {
        req.headers[.accept].contains { $0.lowercased().contains("text/event-stream") }
    }
}
