import Foundation

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
    /// The event's JSON as Dify sent it, so `/dify/v1` relays it unchanged, fields this gateway does not read
    /// included; nil for events built in code.
    public var json: String?

    public init(
        taskID: String? = nil, messageID: String? = nil, conversationID: String? = nil, createdAt: Int? = nil,
        json: String? = nil
    ) {
        self.taskID = taskID
        self.messageID = messageID
        self.conversationID = conversationID
        self.createdAt = createdAt
        self.json = json
    }

    /// Equal when the ids are: the JSON is how the event arrived, not what it says.
    public static func == (lhs: DifyStreamIDs, rhs: DifyStreamIDs) -> Bool {
        (lhs.taskID, lhs.messageID, lhs.conversationID, lhs.createdAt)
            == (rhs.taskID, rhs.messageID, rhs.conversationID, rhs.createdAt)
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
        guard let envelope = DifyEnvelope.decode(bytes),
            let name = envelope.event.flatMap({ $0.isEmpty ? nil : $0 }) ?? eventName, !name.isEmpty
        else {
            self = .malformed(String(decoding: bytes, as: UTF8.self))
            return
        }
        var ids = DifyStreamIDs(
            taskID: envelope.taskID, messageID: envelope.messageID, conversationID: envelope.conversationID,
            createdAt: envelope.createdAt, json: String(decoding: bytes, as: UTF8.self))
        // Events passed on whole are decoded a second time, as a whole; the text events never are.
        func payload() -> JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))) ?? .object([:]) }
        switch name {
        case "message", "agent_message":
            ids.messageID = ids.messageID ?? envelope.id
            self = .answerDelta(ids, text: envelope.answer ?? "")
        case "message_replace":
            ids.messageID = ids.messageID ?? envelope.id
            self = .answerReplace(ids, text: envelope.answer ?? "")
        case "message_end":
            ids.messageID = ids.messageID ?? envelope.id
            self = .messageEnd(ids, metadata: envelope.metadata)
        case "message_file":
            // Here `id` is the file's id, not the message's.
            self = .messageFile(
                ids, id: envelope.id, type: envelope.type, url: envelope.url, belongsTo: envelope.belongsTo)
        case "agent_thought":
            self = .agentThought(ids, payload: payload())
        case "error":
            self = .error(status: envelope.status, code: envelope.code, message: envelope.message ?? "")
        case "ping":
            self = .ping
        case _ where Self.workflowEventNames.contains(name):
            self = .workflow(ids, event: name, payload: payload())
        default:
            self = .other(event: name, payload: payload())
        }
    }
}
