import Vapor

/// One row of `GET /v1/conversations` (`created_at` in Unix seconds, as the seed returned it).
struct ConversationSummary: Content, Equatable {
    var id: String
    var name: String?
    var createdAt: Int?
    /// A turn still being answered in it, to attach to (`GET /v1/turns/{turn_id}/events`).
    var turn: TurnInProgress?

    enum CodingKeys: String, CodingKey { case id, name, createdAt = "created_at", turn }
}

/// A turn in progress, as listings show it.
struct TurnInProgress: Content, Equatable {
    var turnID: String
    var status: String

    enum CodingKeys: String, CodingKey { case turnID = "turn_id", status }
}

/// One row of `GET /v1/conversations/{id}/messages`: each Dify turn becomes a user row and an assistant row. An
/// answer carries its sources, feedback and files; a question asked again is one user row and one assistant row, the
/// newest attempt, whose `siblings` are every attempt, oldest first.
struct ConversationMessage: Content, Equatable {
    var id: String
    var role: String
    var content: String
    var createdAt: Int?
    /// Only on the rows of a turn still being answered: its id and state (`accepted` or `streaming`).
    var turnID: String? = nil
    var status: String? = nil
    var files: [JSONValue] = []
    /// An answer's: Dify's `retriever_resources`, each with a `url` where the system maps it.
    var retrieverResources: [JSONValue] = []
    /// An answer's: `{rating}` or null.
    var feedback: JSONValue? = nil
    var siblings: [ConversationMessage]? = nil

    enum CodingKeys: String, CodingKey {
        case id, role, content, createdAt = "created_at", turnID = "turn_id", status, files
        case retrieverResources = "retriever_resources", feedback, siblings
    }

    init(
        id: String, role: String, content: String, createdAt: Int?, turnID: String? = nil, status: String? = nil
    ) {
        (self.id, self.role, self.content, self.createdAt) = (id, role, content, createdAt)
        (self.turnID, self.status) = (turnID, status)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        role = try container.decode(String.self, forKey: .role)
        content = try container.decode(String.self, forKey: .content)
        createdAt = try container.decodeIfPresent(Int.self, forKey: .createdAt)
        turnID = try container.decodeIfPresent(String.self, forKey: .turnID)
        status = try container.decodeIfPresent(String.self, forKey: .status)
        files = try container.decodeIfPresent([JSONValue].self, forKey: .files) ?? []
        retrieverResources = try container.decodeIfPresent([JSONValue].self, forKey: .retrieverResources) ?? []
        feedback = try container.decodeIfPresent(JSONValue.self, forKey: .feedback)
        siblings = try container.decodeIfPresent([ConversationMessage].self, forKey: .siblings)
    }

    /// An answer always has `retriever_resources`, `feedback` and `files`; a question has `files` when it has any.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(role, forKey: .role)
        try container.encode(content, forKey: .content)
        try container.encodeIfPresent(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(turnID, forKey: .turnID)
        try container.encodeIfPresent(status, forKey: .status)
        if role == "assistant" {
            try container.encode(files, forKey: .files)
            try container.encode(retrieverResources, forKey: .retrieverResources)
            try container.encode(feedback ?? .null, forKey: .feedback)
            try container.encodeIfPresent(siblings, forKey: .siblings)
        } else if !files.isEmpty {
            try container.encode(files, forKey: .files)
        }
    }

    /// The rows of one Dify turn; `sources` are the ones the gateway kept, else Dify's.
    static func rows(for turn: DifyMessage, sources: [JSONValue]? = nil) -> [ConversationMessage] {
        let files = turn.messageFiles ?? []
        func belongs(_ file: JSONValue, to side: String) -> Bool {
            (file.objectValue?["belongs_to"]?.stringValue ?? "user") == side
        }
        var question = ConversationMessage(
            id: "\(turn.id)_user", role: "user", content: turn.query ?? "", createdAt: turn.createdAt)
        question.files = files.filter { belongs($0, to: "user") }
        var rows = [question]
        if let answer = turn.answer, !answer.isEmpty {
            var reply = ConversationMessage(
                id: "\(turn.id)_assistant", role: "assistant", content: answer, createdAt: turn.createdAt)
            reply.files = files.filter { belongs($0, to: "assistant") }
            reply.retrieverResources = sources ?? turn.retrieverResources ?? []
            if let feedback = turn.feedback, feedback != .null { reply.feedback = feedback }
            rows.append(reply)
        }
        return rows
    }
}

/// `system_id` / `user_id` from the query string (optional with a JWT).
struct IdentityQuery: Content {
    var systemID: String?
    var userID: String?

    enum CodingKeys: String, CodingKey { case systemID = "system_id", userID = "user_id" }
}
