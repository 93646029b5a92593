import Foundation
import NIOCore

/// The gateway's own stream events: documented, and stable for clients whatever event types Dify adds.
/// Each is written as `event: <name>` plus one `data:` line of JSON that repeats the name in `"event"`.
enum ChatStreamEvent: Sendable, Equatable {
    /// First: the ids, as soon as Dify names them, and the gateway's own id of the turn.
    case start(turnID: String, conversationID: String, messageID: String, taskID: String?)
    /// A reattached client missed events the gateway no longer holds one by one: the answer so far, replacing
    /// what the client has, up to `lastEventID`.
    case sync(text: String, lastEventID: Int)
    /// Text to append to the answer.
    case delta(String)
    /// Moderation replaced the whole answer so far with this text.
    case replace(String)
    /// A file produced by the assistant or a tool.
    case file(id: String?, type: String?, url: String?, belongsTo: String?)
    /// An agent's reasoning step: Dify's `agent_thought` payload, passed through.
    case thought(JSONValue)
    /// Chatflow progress (`workflow_started`, `node_started`, `node_finished`, `workflow_finished`, ...), trimmed to what a UI shows.
    case progress(event: String, title: String?, nodeType: String?, status: String?)
    /// Last, on success: the full answer and Dify's metadata (usage, retriever_resources). `stopped` when the user stopped it.
    case done(conversationID: String, messageID: String, answer: String, metadata: JSONValue, stopped: Bool)
    /// Last, on failure: what went wrong, with the HTTP status a blocking call would have had.
    case error(status: Int, detail: String, code: String?)

    var name: String {
        switch self {
        case .start: "start"
        case .sync: "sync"
        case .delta: "delta"
        case .replace: "replace"
        case .file: "file"
        case .thought: "thought"
        case .progress: "progress"
        case .done: "done"
        case .error: "error"
        }
    }

    var payload: [String: JSONValue] {
        func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
        switch self {
        case .start(let turnID, let conversationID, let messageID, let taskID):
            return [
                "turn_id": .string(turnID), "conversation_id": .string(conversationID),
                "message_id": .string(messageID), "task_id": optional(taskID),
            ]
        case .sync(let text, let lastEventID):
            return ["text": .string(text), "last_event_id": .number(Double(lastEventID))]
        case .delta(let text):
            return ["text": .string(text)]
        case .replace(let answer):
            return ["answer": .string(answer)]
        case .file(let id, let type, let url, let belongsTo):
            return [
                "id": optional(id), "type": optional(type), "url": optional(url), "belongs_to": optional(belongsTo),
            ]
        case .thought(let thought):
            return ["thought": thought]
        case .progress(let event, let title, let nodeType, let status):
            return [
                "step": .string(event), "title": optional(title), "node_type": optional(nodeType),
                "status": optional(status),
            ]
        case .done(let conversationID, let messageID, let answer, let metadata, let stopped):
            return [
                "conversation_id": .string(conversationID), "message_id": .string(messageID), "answer": .string(answer),
                "metadata": metadata, "stopped": .bool(stopped),
            ]
        case .error(let status, let detail, let code):
            return ["status": .number(Double(status)), "detail": .string(detail), "code": optional(code)]
        }
    }

    /// `id: <id>\nevent: <name>\ndata: {"event": "<name>", ...}\n\n`.
    func write(id: Int, into buffer: inout ByteBuffer) {
        var object = payload
        object["event"] = .string(name)
        buffer.writeString("id: \(id)\nevent: \(name)\ndata: ")
        JSONValue.object(object).write(into: &buffer, sortedKeys: true)
        buffer.writeString("\n\n")
    }

    static let keepAlive = ": keep-alive\n\n"
}
