import Vapor

/// One row of `GET /v1/conversations` (`created_at` in Unix seconds, as the seed returned it).
struct ConversationSummary: Content, Equatable {
    var id: String
    var name: String?
    var createdAt: Int?

    enum CodingKeys: String, CodingKey { case id, name, createdAt = "created_at" }
}

/// One row of `GET /v1/conversations/{id}/messages`: each Dify turn becomes a user row and an assistant row.
struct ConversationMessage: Content, Equatable {
    var id: String
    var role: String
    var content: String
    var createdAt: Int?

    enum CodingKeys: String, CodingKey { case id, role, content, createdAt = "created_at" }

    static func rows(for turn: DifyMessage) -> [ConversationMessage] {
        var rows = [
            ConversationMessage(
                id: "\(turn.id)_user", role: "user", content: turn.query ?? "", createdAt: turn.createdAt)
        ]
        if let answer = turn.answer, !answer.isEmpty {
            rows.append(
                ConversationMessage(
                    id: "\(turn.id)_assistant", role: "assistant", content: answer, createdAt: turn.createdAt))
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
