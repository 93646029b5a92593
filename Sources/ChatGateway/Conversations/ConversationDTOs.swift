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

/// One row of `GET /v1/conversations/{id}/messages`: each Dify turn becomes a user row and an assistant row.
struct ConversationMessage: Content, Equatable {
    var id: String
    var role: String
    var content: String
    var createdAt: Int?
    /// Only on the rows of a turn still being answered: its id and state (`accepted` or `streaming`).
    var turnID: String? = nil
    var status: String? = nil

    enum CodingKeys: String, CodingKey {
        case id, role, content, createdAt = "created_at", turnID = "turn_id", status
    }

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
