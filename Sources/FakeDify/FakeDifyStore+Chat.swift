import Foundation

extension FakeDifyStore {
    /// Writes the conversation (if new) and the message row before the model runs, as Dify does,
    /// so a failed or cut generation still leaves a message behind.
    func beginChat(
        user: String, conversationID: String?, query: String, inputs: FakeDifyJSON,
        autoGenerateName: Bool, files: [FakeDifyJSON] = []
    ) throws -> FakeChatTicket {
        let conversation: FakeConversation
        if let conversationID {
            guard let existing = liveConversation(conversationID, user: user) else {
                throw DifyError.conversationNotExists
            }
            conversation = existing
        } else {
            conversation = createConversation(user: user, inputs: filterInputs(inputs))
        }
        let message = addMessage(to: conversation.id, query: query)
        let asked = conversations[conversation.id]!.messageIDs.filter { messages[$0]?.query == query }.count
        let reply = FakeDifyAnswer.reply(for: query, asked: asked, style: options.answerStyle)
        let resources = options.retrieverResources.map(\.json)
        let agentStep = reply.agentTask.map {
            FakeAgentStep(id: newID(), messageID: message.id, task: $0, createdAt: message.createdAt)
        }
        let assistantFiles = reply.fileURLs.map(assistantFile)
        messages[message.id]?.files = files.map(messageFile) + assistantFiles
        messages[message.id]?.retrieverResources = resources
        messages[message.id]?.agentThoughts = agentStep.map { [$0.json] } ?? []
        if autoGenerateName, conversationID == nil {
            pendingNames[conversation.id] = FakeDifyAnswer.conversationName(for: query)
        }
        return FakeChatTicket(
            conversationID: conversation.id, messageID: message.id, taskID: newID(),
            createdAt: message.createdAt, query: query, user: user, reply: reply, resources: resources,
            agentStep: agentStep, assistantFiles: assistantFiles, workflowRunID: reply.workflow ? newID() : nil)
    }

    private func newID() -> String { UUID().uuidString.lowercased() }

    /// A file the assistant returns, as `GET /messages` lists it (a tool's file, as Dify files an image it made).
    private func assistantFile(url: String) -> FakeDifyJSON {
        let name = String(url.split(separator: "/").last ?? "")
        let ext = name.split(separator: ".").last.map { $0.lowercased() } ?? ""
        let mime: FakeDifyJSON =
            switch ext {
            case "png", "gif", "webp": .string("image/\(ext)")
            case "jpg", "jpeg": .string("image/jpeg")
            case "svg": .string("image/svg+xml")
            default: .null
            }
        return .object([
            ("id", .string(newID())), ("filename", .string(name)), ("type", .string("image")), ("url", .string(url)),
            ("mime_type", mime), ("size", .null), ("transfer_method", .string("tool_file")),
            ("belongs_to", .string("assistant")), ("upload_file_id", .null),
        ])
    }

    /// A chat's file as `GET /messages` lists it: an uploaded one with its upload's name, type and size.
    private func messageFile(_ file: FakeDifyJSON) -> FakeDifyJSON {
        let uploadID = file["upload_file_id"]?.stringValue
        let upload = uploads.first { $0.id == uploadID }
        let url = file["url"]?.stringValue
        return .object([
            ("id", .string(UUID().uuidString.lowercased())),
            ("filename", .string(upload?.name ?? url.map { String($0.split(separator: "/").last ?? "") } ?? "")),
            ("type", .string(file["type"]?.stringValue ?? "image")), ("url", url.map(FakeDifyJSON.string) ?? .null),
            ("mime_type", upload.map { .string($0.mimeType) } ?? .null),
            ("size", upload.map { .int($0.size) } ?? .null),
            ("transfer_method", .string(file["transfer_method"]?.stringValue ?? "remote_url")),
            ("belongs_to", .string("user")), ("upload_file_id", uploadID.map(FakeDifyJSON.string) ?? .null),
        ])
    }

    /// Saves what the generation produced. The generated name lands now, as Dify's pipeline joins
    /// its naming thread before the response ends.
    func finishChat(_ ticket: FakeChatTicket, answer: String, error: String? = nil) {
        messages[ticket.messageID]?.answer = answer
        if let error {
            messages[ticket.messageID]?.status = "error"
            messages[ticket.messageID]?.error = error
        }
        if let name = pendingNames.removeValue(forKey: ticket.conversationID) {
            conversations[ticket.conversationID]?.name = name
        }
        unregisterTask(ticket.taskID)
    }

    /// Keys the app does not define are dropped, like `_prepare_user_inputs`; undefined optional
    /// variables get their default, "".
    func filterInputs(_ inputs: FakeDifyJSON) -> FakeDifyJSON {
        .object(
            options.inputVariables.map { name in
                let value = inputs[name] ?? .string("")
                return (name, value.isNull ? .string("") : value)
            })
    }

    func createConversation(user: String, inputs: FakeDifyJSON) -> FakeConversation {
        let now = tick()
        let conversation = FakeConversation(
            id: UUID().uuidString.lowercased(), user: user, name: "New conversation", inputs: inputs,
            introduction: options.openingStatement, createdAt: now.seconds, updatedAt: now.seconds,
            createdSeq: now.seq, updatedSeq: now.seq
        )
        conversations[conversation.id] = conversation
        return conversation
    }

    /// Adds a message and bumps the conversation's `updated_at`.
    @discardableResult
    func addMessage(to conversationID: String, query: String, answer: String = "") -> FakeMessage {
        let now = tick()
        let conversation = conversations[conversationID]!
        let message = FakeMessage(
            id: UUID().uuidString.lowercased(), conversationID: conversationID,
            user: conversation.user, inputs: conversation.inputs, query: query,
            answer: answer, createdAt: now.seconds, seq: now.seq)
        messages[message.id] = message
        conversations[conversationID]?.messageIDs.append(message.id)
        conversations[conversationID]?.updatedAt = now.seconds
        conversations[conversationID]?.updatedSeq = now.seq
        return message
    }

    /// Seed data directly (for pagination tests / sync benchmarks): creates conversations with turns,
    /// returns conversation ids, oldest first. Queries are "Seeded question C.T"; answers follow `FakeDifyAnswer`.
    @discardableResult
    public func seed(user: String, conversations count: Int, turnsEach: Int) -> [String] {
        (0..<max(count, 0)).map { c in
            let conversation = createConversation(user: user, inputs: filterInputs(.object([])))
            for t in 0..<max(turnsEach, 0) {
                let query = "Seeded question \(c + 1).\(t + 1)"
                addMessage(
                    to: conversation.id, query: query,
                    answer: FakeDifyAnswer.answer(for: query, style: options.answerStyle))
                if t == 0 { conversations[conversation.id]?.name = FakeDifyAnswer.conversationName(for: query) }
            }
            return conversation.id
        }
    }
}
