import Vapor

/// `POST /v1/chat-messages`: checks in Dify's order, then a blocking or a streaming answer.
func handleChatMessages(_ req: Request, store: FakeDifyStore) async throws -> Response {
    let started = ContinuousClock.now
    await store.recordChatRequest(body: req.body.string, traceparent: req.headers.first(name: "traceparent"))
    try await req.difyAuthenticate(store)
    let fault = await store.chatFault()
    if fault == .hang { throw FakeDifyFault.hangReleased }
    if let early = fault?.earlyResponse { return early }

    let body = try req.difyJSONBody()
    let user = try req.difyUser(body["user"], required: true)
    let payload = try FakeChatPayload(body)
    guard !payload.query.isEmpty else { throw DifyError.invalidParam("query is required") }
    let query = payload.query.replacingOccurrences(of: "\u{0}", with: "")

    let ticket = try await store.beginChat(
        user: user, conversationID: payload.conversationID, query: query,
        inputs: payload.inputs, autoGenerateName: payload.autoGenerateName, files: payload.files)
    let options = await store.options
    let chat = FakeChatRun(ticket: ticket, store: store, options: options, fault: fault, started: started)
    if payload.streaming {
        store.registerTask(ticket.taskID, user: user)
        return chat.streamingResponse()
    }
    return try await chat.blockingResponse()
}

/// One generation: the answer, how far a fault lets it get, and the events describing it.
struct FakeChatRun: Sendable {
    let ticket: FakeChatTicket
    let store: FakeDifyStore
    let options: FakeDifyOptions
    let fault: FakeDifyFault?
    let started: ContinuousClock.Instant

    var chunks: [String] { FakeDifyAnswer.chunks(of: ticket.reply.text) }

    /// Seconds since the request arrived, for `usage.latency`.
    var elapsed: Double {
        let d = ContinuousClock.now - started
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    func metadata(completionChunks: Int) -> FakeDifyJSON {
        FakeDifyUsage(query: ticket.query, completionChunks: completionChunks, latency: elapsed)
            .metadata(retrieverResources: ticket.resources)
    }

    /// Every event starts with event, conversation_id, message_id, created_at, then its own fields.
    func event(_ name: String, _ fields: [(String, FakeDifyJSON)]) -> FakeDifyJSON {
        .object(
            [
                ("event", .string(name)), ("conversation_id", .string(ticket.conversationID)),
                ("message_id", .string(ticket.messageID)), ("created_at", .int(ticket.createdAt)),
            ] + fields)
    }

    func blockingResponse() async throws -> Response {
        if options.latency > .zero { try await Task.sleep(for: options.latency) }
        let chunks = self.chunks
        switch fault {
        case .streamError(let n)?:
            await store.finishChat(
                ticket, answer: chunks.prefix(n).joined(), error: FakeDifyFaultTexts.streamErrorMessage)
            throw DifyError(
                status: FakeDifyFaultTexts.streamErrorStatus, code: FakeDifyFaultTexts.streamErrorCode,
                message: FakeDifyFaultTexts.streamErrorMessage)
        case .streamCut(let n)?:
            await store.finishChat(ticket, answer: chunks.prefix(n).joined())
            return cutBlockingResponse()
        default:
            break
        }
        await store.finishChat(ticket, answer: chunks.joined())
        if fault == .malformedJSON {
            var headers = HTTPHeaders()
            headers.contentType = .json
            return Response(status: .ok, headers: headers, body: .init(string: FakeDifyFaultTexts.brokenBlockingBody))
        }
        let json = FakeDifyJSON.object([
            ("event", .string("message")), ("task_id", .string(ticket.taskID)),
            ("id", .string(ticket.messageID)), ("message_id", .string(ticket.messageID)),
            ("conversation_id", .string(ticket.conversationID)), ("mode", .string(mode)),
            ("answer", .string(chunks.joined())), ("metadata", metadata(completionChunks: chunks.count)),
            ("created_at", .int(ticket.createdAt)),
        ])
        return difyJSONResponse(json)
    }

    /// The app type the answer stands for: a directive's chatflow or agent, else a chat app.
    var mode: String {
        if ticket.reply.workflow { return "advanced-chat" }
        return ticket.agentStep == nil ? "chat" : "agent-chat"
    }

    /// 200 and the start of a body, then the connection drops, like a proxy or worker dying mid-answer.
    private func cutBlockingResponse() -> Response {
        var headers = HTTPHeaders()
        headers.contentType = .json
        return Response(
            status: .ok, headers: headers,
            body: .init(managedAsyncStream: { writer in
                try await writer.writeBuffer(ByteBuffer(string: FakeDifyFaultTexts.brokenBlockingBody))
                throw FakeDifyStreamCut()
            }))
    }
}
