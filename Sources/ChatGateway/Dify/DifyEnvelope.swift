import Foundation

/// The fields the gateway reads from a Dify stream event or blocking answer (dify-api.md section 3). A field of
/// an unexpected JSON type reads as missing, and unknown fields are ignored; `metadata` is passed through whole.
/// A field that is not valid JSON text (invalid UTF-8, a lone surrogate escape, a number out of range) makes the
/// whole envelope undecodable, so a broken event is reported, never read as empty.
struct DifyEnvelope: Decodable {
    var event: String?
    var taskID: String?
    var messageID: String?
    var conversationID: String?
    /// The message's id on `message` events, the file's on `message_file`.
    var id: String?
    var answer: String?
    var createdAt: Int?
    var metadata: JSONValue?
    var type: String?
    var url: String?
    var belongsTo: String?
    var status: Int?
    var code: String?
    var message: String?
    /// The blocking answer's app mode (`chat`, `advanced-chat`, `agent-chat`).
    var mode: String?

    enum CodingKeys: String, CodingKey {
        case event, taskID = "task_id", messageID = "message_id", conversationID = "conversation_id", id, answer
        case createdAt = "created_at", metadata, type, url, belongsTo = "belongs_to", status, code, message, mode
    }

    init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        func present<Value: Decodable>(_ type: Value.Type, _ key: CodingKeys) throws -> Value? {
            do { return try fields.decodeIfPresent(type, forKey: key) } catch DecodingError.typeMismatch { return nil }
        }
        func text(_ key: CodingKeys) throws -> String? { try present(String.self, key) }
        // A JSON number (truncated) or a string of digits: Dify's `status` has been sent both ways.
        func integer(_ key: CodingKeys) throws -> Int? {
            if let number = try present(Double.self, key) {
                return abs(number) < 9_007_199_254_740_992 ? Int(number) : nil
            }
            return try text(key).flatMap { Int($0) }
        }
        event = try text(.event)
        taskID = try text(.taskID)
        messageID = try text(.messageID)
        conversationID = try text(.conversationID)
        id = try text(.id)
        answer = try text(.answer)
        createdAt = try integer(.createdAt)
        metadata = try present(JSONValue.self, .metadata).flatMap { $0 == .null ? nil : $0 }
        type = try text(.type)
        url = try text(.url)
        belongsTo = try text(.belongsTo)
        status = try integer(.status)
        code = try text(.code)
        message = try text(.message)
        mode = try text(.mode)
    }

    /// The envelope in `bytes`, or nil when they are not a JSON object.
    static func decode(_ bytes: some Collection<UInt8>) -> DifyEnvelope? {
        try? JSONDecoder().decode(DifyEnvelope.self, from: Data(bytes))
    }
}
