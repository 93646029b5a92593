/// One decoded event of Dify's stream (`POST /chat-messages` with `response_mode: streaming`).
///
/// Built by `DifyStreamParser` from each dispatched SSE event; see dify-api.md section 3 "Streaming response".
public enum DifyStreamEvent: Sendable, Equatable {
    /// `message` or `agent_message`: a text delta to append.
    case answerDelta(DifyStreamIDs, text: String)
    /// `message_replace`: moderation replaced the whole answer so far.
    case answerReplace(DifyStreamIDs, text: String)
    /// `message_end`: the answer is complete; `metadata` is passed through (usage, retriever_resources).
    case messageEnd(DifyStreamIDs, metadata: JSONValue?)
    /// `message_file`: a file produced by the assistant or a tool.
    case messageFile(DifyStreamIDs, id: String?, type: String?, url: String?, belongsTo: String?)
    /// `agent_thought`: an agent's reasoning step (payload passed through whole).
    case agentThought(DifyStreamIDs, payload: JSONValue)
    /// `workflow_started`, `node_started`, `node_finished`, `workflow_finished` and other chatflow progress events
    /// (the names in `DifyStreamEvent.workflowEventNames`).
    case workflow(DifyStreamIDs, event: String, payload: JSONValue)
    /// `error`: the stream ends after it. Dify sends no task_id on it.
    case error(status: Int?, code: String?, message: String)
    /// `event: ping` keep-alive (no data line), or a `data:` JSON with event "ping".
    case ping
    /// `tts_message`, `tts_message_end` and any event type this gateway does not know: kept, so callers can ignore them on purpose.
    case other(event: String, payload: JSONValue)
    /// A `data:` line whose payload is not a JSON object with an `event` field (Dify never sends this; a broken proxy might).
    /// Also reported, once, for an event that outgrew the parser's `maxEventBytes`.
    case malformed(String)
}

/// The common envelope Dify puts on every event except `ping` (and `task_id` is missing on `error`).
public struct DifyStreamIDs: Sendable, Equatable {
    public var taskID: String?
    public var messageID: String?
    public var conversationID: String?
    /// The message's creation time, Unix seconds; the same in every event of one stream.
    public var createdAt: Int?

    public init(taskID: String? = nil, messageID: String? = nil, conversationID: String? = nil, createdAt: Int? = nil) {
        self.taskID = taskID
        self.messageID = messageID
        self.conversationID = conversationID
        self.createdAt = createdAt
    }
}

extension DifyStreamEvent {
    /// Chatflow progress events, decoded as `.workflow` (dify-api.md section 3, events table).
    public static let workflowEventNames: Set<String> = [
        "workflow_started", "workflow_finished", "workflow_paused",
        "node_started", "node_finished", "node_retry",
        "iteration_started", "iteration_next", "iteration_completed",
        "loop_started", "loop_next", "loop_completed",
        "parallel_branch_started", "parallel_branch_finished",
        "agent_log", "reasoning_chunk", "human_input_required",
    ]

    /// The envelope ids of the event, for the cases that carry them (`nil` for error, ping, other and malformed).
    public var ids: DifyStreamIDs? {
        switch self {
        case .answerDelta(let ids, _), .answerReplace(let ids, _), .messageEnd(let ids, _),
             .messageFile(let ids, _, _, _, _), .agentThought(let ids, _), .workflow(let ids, _, _):
            ids
        case .error, .ping, .other, .malformed:
            nil
        }
    }

    /// Decodes one dispatched SSE event's data (its `data:` lines joined by `\n`, as UTF-8 bytes).
    ///
    /// The JSON's `event` field names the event; `eventName` (the SSE `event:` line, if any) is used only
    /// when the JSON has no `event` string. Anything that is not a JSON object naming an event is `.malformed`,
    /// and so is invalid JSON text (invalid UTF-8 or a lone surrogate escape included).
    /// Unknown fields are ignored, and fields of an unexpected JSON type are read as missing.
    public init(decodingData bytes: some Collection<UInt8>, eventName: String? = nil) {
        let parsed = bytes.withContiguousStorageIfAvailable { DifyStreamJSON.parse($0) }
            ?? Array(bytes).withUnsafeBufferPointer { DifyStreamJSON.parse($0) }
        guard case .object(let object)? = parsed,
              let name = object.stringMember("event").flatMap({ $0.isEmpty ? nil : $0 }) ?? eventName, !name.isEmpty
        else {
            self = .malformed(String(decoding: bytes, as: UTF8.self))
            return
        }
        var ids = DifyStreamIDs(
            taskID: object.stringMember("task_id"), messageID: object.stringMember("message_id"),
            conversationID: object.stringMember("conversation_id"), createdAt: object.intMember("created_at")
        )
        switch name {
        case "message", "agent_message":
            ids.messageID = ids.messageID ?? object.stringMember("id")
            self = .answerDelta(ids, text: object.stringMember("answer") ?? "")
        case "message_replace":
            ids.messageID = ids.messageID ?? object.stringMember("id")
            self = .answerReplace(ids, text: object.stringMember("answer") ?? "")
        case "message_end":
            ids.messageID = ids.messageID ?? object.stringMember("id")
            let metadata = object["metadata"].flatMap { $0 == .null ? nil : $0 }
            self = .messageEnd(ids, metadata: metadata)
        case "message_file":
            // Here `id` is the file's id, not the message's.
            self = .messageFile(
                ids, id: object.stringMember("id"), type: object.stringMember("type"),
                url: object.stringMember("url"), belongsTo: object.stringMember("belongs_to")
            )
        case "agent_thought":
            self = .agentThought(ids, payload: .object(object))
        case "error":
            self = .error(status: object.intMember("status"), code: object.stringMember("code"), message: object.stringMember("message") ?? "")
        case "ping":
            self = .ping
        case _ where Self.workflowEventNames.contains(name):
            self = .workflow(ids, event: name, payload: .object(object))
        default:
            self = .other(event: name, payload: .object(object))
        }
    }
}

extension [String: JSONValue] {
    /// The member as a string; missing or another JSON type is `nil`.
    fileprivate func stringMember(_ key: String) -> String? {
        guard case .string(let value)? = self[key] else { return nil }
        return value
    }

    /// The member as an integer: a JSON number (truncated) or a string of digits; anything else is `nil`.
    fileprivate func intMember(_ key: String) -> Int? {
        switch self[key] {
        case .number(let value)? where value.isFinite && abs(value) < 9_007_199_254_740_992: Int(value)
        case .string(let text)?: Int(text)
        default: nil
        }
    }
}

/// A strict JSON (RFC 8259) reader from UTF-8 bytes straight to `JSONValue`, for stream events.
///
/// `JSONDecoder` into `JSONValue` finds each value's type by trial and error, paying for a thrown
/// `DecodingError` per failed guess, which made it the dominant cost of a stream (about 60 µs for a small
/// `message_end` even optimised). This reader makes one pass over the bytes. Like `JSONDecoder` it rejects invalid
/// UTF-8, lone surrogate escapes, control characters in strings, trailing text and out-of-range numbers; it also
/// rejects nesting deeper than `maxDepth` (stricter than `JSONDecoder`'s 512), which bounds its recursion.
enum DifyStreamJSON {
    static let maxDepth = 256

    private struct Invalid: Error {}

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var reader = Reader(bytes: bytes)
        do {
            reader.skipWhitespace()
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            return reader.index == bytes.count ? value : nil
        } catch {
            return nil
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// The byte at `index`, or 0 at the end (NUL is never valid where this is looked at).
        private var current: UInt8 { index < bytes.count ? bytes[index] : 0 }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(Invalid) -> JSONValue {
            switch current {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw Invalid()
            }
        }

        private mutating func object(depth: Int) throws(Invalid) -> JSONValue {
            guard depth <= DifyStreamJSON.maxDepth else { throw Invalid() }
            index += 1  // {
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw Invalid() }
                let key = try string()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw Invalid() }
                index += 1
                skipWhitespace()
                members[key] = try value(depth: depth)
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"): index += 1; return .object(members)
                default: throw Invalid()
                }
            }
        }

        private mutating func array(depth: Int) throws(Invalid) -> JSONValue {
            guard depth <= DifyStreamJSON.maxDepth else { throw Invalid() }
            index += 1  // [
            var items: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"): index += 1; return .array(items)
                default: throw Invalid()
                }
            }
        }

        private mutating func literal(_ word: StaticString) throws(Invalid) {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { throw Invalid() }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw Invalid() }
            index += count
        }

        private mutating func number() throws(Invalid) -> JSONValue {
            let start = index
            if current == UInt8(ascii: "-") { index += 1 }
            switch current {
            case UInt8(ascii: "0"): index += 1
            case UInt8(ascii: "1")...UInt8(ascii: "9"): skipDigits()
            default: throw Invalid()
            }
            if current == UInt8(ascii: ".") {
                index += 1
                guard skipDigits() else { throw Invalid() }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard skipDigits() else { throw Invalid() }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let number = Double(text), number.isFinite else { throw Invalid() }
            return .number(number)
        }

        /// Skips digits; `false` if there was none.
        @discardableResult
        private mutating func skipDigits() -> Bool {
            let start = index
            while (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(current) { index += 1 }
            return index > start
        }

        private mutating func string() throws(Invalid) -> String {
            index += 1  // opening quote
            let start = index
            // Fast path: no escapes.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = try Self.validated(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                    index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw Invalid() }
                index += 1
            }
            var decoded = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: decoded, as: UTF8.self) else { throw Invalid() }
                    return text
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw Invalid() }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                    case UInt8(ascii: "b"): decoded.append(0x08)
                    case UInt8(ascii: "f"): decoded.append(0x0C)
                    case UInt8(ascii: "n"): decoded.append(0x0A)
                    case UInt8(ascii: "r"): decoded.append(0x0D)
                    case UInt8(ascii: "t"): decoded.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800...0xDBFF).contains(code) {
                            // A high surrogate must be followed by an escaped low one.
                            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"),
                                  bytes[index + 1] == UInt8(ascii: "u") else { throw Invalid() }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw Invalid() }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(code) {
                            throw Invalid()
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw Invalid() }
                        UTF8.encode(scalar) { decoded.append($0) }
                    default:
                        throw Invalid()
                    }
                default:
                    guard byte >= 0x20 else { throw Invalid() }
                    decoded.append(byte)
                }
            }
            throw Invalid()  // no closing quote
        }

        private mutating func hex4() throws(Invalid) -> UInt32 {
            guard bytes.count - index >= 4 else { throw Invalid() }
            var code: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw Invalid()
                }
                code = code << 4 | UInt32(digit)
                index += 1
            }
            return code
        }

        private static func validated(_ utf8: UnsafeBufferPointer<UInt8>) throws(Invalid) -> String {
            guard let text = String(validating: utf8, as: UTF8.self) else { throw Invalid() }
            return text
        }
    }
}
