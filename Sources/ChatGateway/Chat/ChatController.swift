import Vapor

/// `POST /v1/chat`.
struct ChatController: RouteCollection {
    let auth: GatewayAuthenticator
    let dify: any DifyClient
    let targets: DifyTargetResolver
    let limits: ChatService.ChatLimits
    let maxBodyBytes: Int
    let streams: ChatStreamRegistry
    let admission: ChatAdmission
    let keepAlive: Duration
    let writer: any RowWriter
    let now: @Sendable () -> Date

    func boot(routes: any RoutesBuilder) throws {
        routes.on(.POST, "chat", body: .collect(maxSize: ByteCount(value: maxBodyBytes)), use: chat)
    }

    @Sendable
    func chat(_ req: Request) async throws -> Response {
        // Who is asking comes first: an anonymous caller learns nothing from body validation.
        let credential = try await auth.credential(for: req)
        let body = try ChatRequest.decodedDirectly(from: req) ?? req.content.decode(ChatRequest.self)
        let caller = try auth.identity(credential, systemID: body.systemID, userID: body.userID)
        try await admission.admit(caller, apiKey: credential.isAPIKey ? req.headers.first(name: "X-API-Key") : nil)
        let service = ChatService(
            dify: dify, targets: targets, store: ConversationStore(database: req.db, writer: writer, now: now), limits: limits, logger: req.logger)
        if body.stream ?? Self.acceptsEventStream(req) {
            let session = try await admission.stream(for: caller) {
                try await service.stream(body.message, conversationID: body.conversationID, inputs: body.inputs ?? [:], as: caller, registry: streams, grace: keepAlive, on: req.eventLoop)
            }
            return .chatStream(session, keepAlive: keepAlive)
        }
        let answer = try await service.send(body.message, conversationID: body.conversationID, inputs: body.inputs ?? [:], as: caller)
        return ChatResponse(conversationID: answer.conversationID, messageID: answer.messageID, answer: answer.answer,
                            metadata: answer.metadata ?? .object([:])).response(allocator: req.byteBufferAllocator)
    }

    static func acceptsEventStream(_ req: Request) -> Bool {
        req.headers[.accept].contains { $0.lowercased().contains("text/event-stream") }
    }
}
