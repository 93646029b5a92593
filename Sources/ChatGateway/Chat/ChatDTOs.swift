import Vapor

/// `POST /v1/chat` body.
struct ChatRequest: Content {
    var systemID: String?
    var userID: String?
    /// Required unless `regenerate` names the question.
    var message: String?
    var conversationID: String?
    var inputs: [String: JSONValue]?
    /// Stream the answer as server-sent events (also chosen by `Accept: text/event-stream`).
    var stream: Bool?
    /// Dify `files` items: uploads (`/v1/files/upload`) and remote URLs, within the app's `file_upload`.
    var files: [JSONValue]?
    /// An earlier answer of the caller's: its question is asked again, and the answer kept as its sibling.
    var regenerate: String?

    enum CodingKeys: String, CodingKey {
        case systemID = "system_id", userID = "user_id", message, conversationID = "conversation_id", inputs, stream
        case files, regenerate
    }
}

/// `POST /v1/chat` answer (blocking): `ChatResponse` in the OpenAPI document.
struct ChatResponse {
    var conversationID: String
    var messageID: String
    var answer: String
    var metadata: JSONValue

    /// Written with `JSONValue.write(into:)` rather than `Content`'s `JSONEncoder` (see there for why), keys sorted
    /// so the same answer is always the same text.
    func response(allocator: ByteBufferAllocator) -> Response {
        let json = JSONValue.object([
            "conversation_id": .string(conversationID), "message_id": .string(messageID), "answer": .string(answer),
            "metadata": metadata,
        ])
        return Response(
            status: .ok, headers: ["Content-Type": "application/json; charset=utf-8"],
            body: .init(buffer: json.jsonBuffer(sortedKeys: true, allocator: allocator)))
    }
}
