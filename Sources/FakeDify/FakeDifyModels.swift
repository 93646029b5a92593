/// A stored conversation. `createdSeq`/`updatedSeq` come from the store's monotonic counter:
/// Unix-second timestamps tie when many things happen in one second, the sequence never does,
/// so sorting and cursors use it.
struct FakeConversation: Sendable {
    let id: String
    let user: String
    var name: String
    let inputs: FakeDifyJSON
    let introduction: String
    let createdAt: Int
    var updatedAt: Int
    let createdSeq: Int
    var updatedSeq: Int
    var isDeleted = false
    /// Message ids, oldest first.
    var messageIDs: [String] = []

    var json: FakeDifyJSON {
        .object([
            ("id", .string(id)),
            ("name", .string(name)),
            ("inputs", inputs),
            ("status", .string("normal")),
            ("introduction", .string(introduction)),
            ("created_at", .int(createdAt)),
            ("updated_at", .int(updatedAt)),
        ])
    }
}

/// One turn: the user's query and the assistant's answer.
struct FakeMessage: Sendable {
    let id: String
    let conversationID: String
    let user: String
    let inputs: FakeDifyJSON
    let query: String
    var answer: String = ""
    var status: String = "normal"
    var error: String? = nil
    var rating: String? = nil
    var feedbackContent: String? = nil
    /// The chat's `files`, as `message_files` items (`belongs_to: user`).
    var files: [FakeDifyJSON] = []
    let createdAt: Int
    let seq: Int

    /// An item of `GET /messages`, as the current spec and code shape it.
    var json: FakeDifyJSON {
        .object([
            ("id", .string(id)),
            ("conversation_id", .string(conversationID)),
            ("parent_message_id", .null),
            ("inputs", inputs),
            ("query", .string(query)),
            ("answer", .string(answer)),
            ("message_files", .array(files)),
            ("feedback", rating.map { .object([("rating", .string($0))]) } ?? .null),
            ("retriever_resources", .array([])),
            ("agent_thoughts", .array([])),
            ("created_at", .int(createdAt)),
            ("status", .string(status)),
            ("error", error.map { .string($0) } ?? .null),
            ("extra_contents", .array([])),
        ])
    }
}

/// What a chat call needs after the store has written the conversation and message rows.
struct FakeChatTicket: Sendable {
    let conversationID: String
    let messageID: String
    let taskID: String
    let createdAt: Int
    let query: String
    let user: String
}

/// `{"limit","has_more","data"}`, the shape of both list endpoints.
func pageJSON(limit: Int, hasMore: Bool, data: [FakeDifyJSON]) -> FakeDifyJSON {
    .object([("limit", .int(limit)), ("has_more", .bool(hasMore)), ("data", .array(data))])
}
