import Vapor

/// `POST /v1/chat` body.
struct ChatRequest: Content {
    var systemID: String?
    var userID: String?
    var message: String
    var conversationID: String?
    var inputs: [String: JSONValue]?
    /// Stream the answer as server-sent events (also chosen by `Accept: text/event-stream`).
    var stream: Bool?

    enum CodingKeys: String, CodingKey {
        case systemID = "system_id", userID = "user_id", message, conversationID = "conversation_id", inputs, stream
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
