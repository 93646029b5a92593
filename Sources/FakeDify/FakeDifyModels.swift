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
    /// The chat's `files` (`belongs_to: user`), then the assistant's (`belongs_to: assistant`), as `message_files` items.
    var files: [FakeDifyJSON] = []
    /// The sources the answer cited.
    var retrieverResources: [FakeDifyJSON] = []
    /// An agent's tool steps, as `agent_thoughts` items.
    var agentThoughts: [FakeDifyJSON] = []
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
            ("retriever_resources", .array(retrieverResources)),
            ("agent_thoughts", .array(agentThoughts)),
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
    let reply: FakeDifyReply
    /// `metadata.retriever_resources` items.
    let resources: [FakeDifyJSON]
    /// `/agent`: the tool step.
    let agentStep: FakeAgentStep?
    /// `/file`: the assistant's files, as `message_files` items.
    let assistantFiles: [FakeDifyJSON]
    /// `/workflow`: the run's id.
    let workflowRunID: String?
}

/// The tool step of an `/agent` answer: a web search for the task.
struct FakeAgentStep: Sendable {
    let id: String
    let messageID: String
    let task: String
    let createdAt: Int

    static let tool = "web_search"
    var thought: String { "I will search the web for \(task)." }
    var toolInput: String { FakeDifyJSON.object([(Self.tool, .object([("query", .string(task))]))]).serialized() }
    var observation: String {
        FakeDifyJSON.object([(Self.tool, .string("Found 3 pages about \(task)."))]).serialized()
    }
    var toolLabels: FakeDifyJSON {
        .object([(Self.tool, .object([("en_US", .string("Web Search")), ("zh_Hans", .string("网页搜索"))]))])
    }

    /// An `agent_thoughts` item of `GET /messages`.
    var json: FakeDifyJSON {
        .object([
            ("id", .string(id)), ("chain_id", .null), ("message_id", .string(messageID)), ("position", .int(1)),
            ("thought", .string(thought)), ("tool", .string(Self.tool)), ("tool_labels", toolLabels),
            ("tool_input", .string(toolInput)), ("created_at", .int(createdAt)), ("observation", .string(observation)),
            ("files", .array([])),
        ])
    }

    /// The `agent_thought` event's own fields: first as the tool is called, then with what it observed.
    func eventFields(observed: Bool) -> [(String, FakeDifyJSON)] {
        [
            ("id", .string(id)), ("position", .int(1)), ("thought", .string(thought)),
            ("observation", .string(observed ? observation : "")), ("tool", .string(Self.tool)),
            ("tool_labels", toolLabels), ("tool_input", .string(toolInput)), ("message_files", .array([])),
        ]
    }
}

/// `{"limit","has_more","data"}`, the shape of both list endpoints.
func pageJSON(limit: Int, hasMore: Bool, data: [FakeDifyJSON]) -> FakeDifyJSON {
    .object([("limit", .int(limit)), ("has_more", .bool(hasMore)), ("data", .array(data))])
}
