import Vapor

/// `POST /v1/chat` body.
struct ChatRequest: Content {
    var systemID: String?
    var userID: String?
    var message: String
    var conversationID: String?
    var inputs: [String: JSONValue]?

    enum CodingKeys: String, CodingKey {
        case systemID = "system_id", userID = "user_id", message, conversationID = "conversation_id", inputs
    }
}

/// `POST /v1/chat` answer (blocking).
struct ChatResponse: Content {
    var conversationID: String
    var messageID: String
    var answer: String
    var metadata: JSONValue

    enum CodingKeys: String, CodingKey {
        case conversationID = "conversation_id", messageID = "message_id", answer, metadata
    }
}
