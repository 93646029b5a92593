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

extension ChatRequest {
    /// The request's body read by the gateway's one-pass JSON reader, or nil, and then Vapor's `Content` decoding
    /// runs as before and gives its usual error (or the same value for a body this reader is stricter about).
    /// Nil unless the body is declared `application/json`, is one valid JSON object, and every known field has
    /// its type (or is `null` where optional); other members are ignored, as `Decodable` does.
    ///
    /// Why: content negotiation and `JSONDecoder` were ~4 % of the gateway's CPU per chat under load.
    static func decodedDirectly(from req: Request) -> ChatRequest? {
        guard let contentType = req.headers.first(name: .contentType),
              contentType.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/json",
              let body = req.body.data, case .object(let members)? = DifyJSONReader.parse(body.readableBytesView),
              case .string(let message)? = members["message"]
        else { return nil }
        func optionalString(_ key: String) -> String?? {
            switch members[key] {
            case nil, .null?: .some(nil)
            case .string(let value)?: .some(value)
            default: nil
            }
        }
        guard let systemID = optionalString("system_id"), let userID = optionalString("user_id"),
              let conversationID = optionalString("conversation_id")
        else { return nil }
        var request = ChatRequest(systemID: systemID, userID: userID, message: message, conversationID: conversationID)
        switch members["inputs"] {
        case nil, .null?: break
        case .object(let inputs)?: request.inputs = inputs
        default: return nil
        }
        switch members["stream"] {
        case nil, .null?: break
        case .bool(let stream)?: request.stream = stream
        default: return nil
        }
        return request
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
            "conversation_id": .string(conversationID), "message_id": .string(messageID), "answer": .string(answer), "metadata": metadata,
        ])
        return Response(status: .ok, headers: ["Content-Type": "application/json; charset=utf-8"],
                        body: .init(buffer: json.jsonBuffer(sortedKeys: true, allocator: allocator)))
    }
}
