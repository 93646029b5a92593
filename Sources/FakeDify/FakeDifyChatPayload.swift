import Foundation

/// The body of `POST /chat-messages`, validated like Dify's pydantic `ChatRequestPayload`:
/// every field error is collected and reported as one 400 `invalid_param` in pydantic's layout.
struct FakeChatPayload {
    let query: String
    let inputs: FakeDifyJSON
    let streaming: Bool
    /// nil starts a new conversation (omitted, null, "" or whitespace).
    let conversationID: String?
    let autoGenerateName: Bool
    let files: [FakeDifyJSON]

    init(_ body: FakeDifyJSON) throws {
        var errors: [(field: String, text: String)] = []
        func fail(_ field: String, _ text: String) { errors.append((field, text)) }

        var query = ""
        switch body["query"] {
        case .string(let s)?: query = s
        case nil: fail("query", "Field required [type=missing]")
        default: fail("query", "Input should be a valid string [type=string_type]")
        }
        var inputs = FakeDifyJSON.object([])
        switch body["inputs"] {
        case .object?: inputs = body["inputs"]!
        case nil: fail("inputs", "Field required [type=missing]")
        default: fail("inputs", "Input should be a valid dictionary [type=dict_type]")
        }
        var streaming = false
        switch body["response_mode"] {
        case nil, .null?, .string("blocking")?: break
        case .string("streaming")?: streaming = true
        default: fail("response_mode", "Input should be 'blocking' or 'streaming' [type=literal_error]")
        }
        var files: [FakeDifyJSON] = []
        switch body["files"] {
        case nil, .null?: break
        case .array(let items)? where items.allSatisfy({ if case .object = $0 { true } else { false } }): files = items
        default: fail("files", "Input should be a valid list of objects [type=list_type]")
        }
        var autoName = true
        if let value = body["auto_generate_name"] {
            if let flag = Self.laxBool(value) {
                autoName = flag
            } else {
                fail("auto_generate_name", "Input should be a valid boolean [type=bool_parsing]")
            }
        }
        var conversationID: String?
        switch body["conversation_id"] {
        case nil, .null?: break
        case .string(let s)? where s.allSatisfy(\.isWhitespace): break
        case .string(let s)?:
            guard let id = pythonUUID(s.trimmingCharacters(in: .whitespaces)) else {
                throw DifyError.invalidParam("conversation_id must be a valid UUID")
            }
            conversationID = id
        default: fail("conversation_id", "Input should be a valid string [type=string_type]")
        }

        if !errors.isEmpty {
            let count = errors.count == 1 ? "1 validation error" : "\(errors.count) validation errors"
            let lines = errors.map { "\($0.field)\n  \($0.text)" }
            throw DifyError.invalidParam(([count + " for ChatRequestPayload"] + lines).joined(separator: "\n"))
        }
        self.query = query
        self.inputs = inputs
        self.streaming = streaming
        self.conversationID = conversationID
        self.autoGenerateName = autoName
        self.files = files
    }

    /// pydantic's lax bool: true/false, 0/1 and the usual yes/no strings.
    static func laxBool(_ value: FakeDifyJSON) -> Bool? {
        switch value {
        case .bool(let b): return b
        case .int(0): return false
        case .int(1): return true
        case .string(let s):
            switch s.lowercased() {
            case "1", "on", "t", "true", "y", "yes": return true
            case "0", "off", "f", "false", "n", "no": return false
            default: return nil
            }
        default: return nil
        }
    }
}
