import Foundation
import NIOCore

/// One entry of a turn's log: what the task reading Dify saw, in order, before any wire shapes it. Encoders at the
/// edge (`TurnEventEncoder`) turn entries into a wire's events.
enum TurnEvent: Sendable, Equatable {
    /// Dify named the turn's conversation, message and task.
    case started(TurnIDs)
    /// One of Dify's events, with the end user's id already given back as the client's.
    case upstream(DifyStreamEvent)
    /// How the turn ended. A Dify client may still be sent Dify's trailing events after it.
    case ended(TurnEnding)
    /// Never in a log: a reader's source makes it for a reader that missed events no longer held one by one.
    /// The answer up to this entry's id, replacing what the reader had.
    case sync(text: String, ids: TurnIDs?)

    /// Brings the text so far up to this entry; a delta is appended in place, so a long answer is not copied once
    /// per delta.
    func fold(into text: inout String) {
        switch self {
        case .upstream(.answerDelta(_, let delta)): text += delta
        case .upstream(.answerReplace(_, let replacement)): text = replacement
        case .ended(.completed(_, let answer, _, _)), .sync(let answer, _): text = answer
        default: break
        }
    }

    /// The entry as `gateway_turn_events` keeps it, or nil for one never kept there (an ending is stored with the
    /// turn's rows instead). A text delta keeps only its text: its ids are the turn's, in its `started` entry.
    var stored: JSONValue? {
        switch self {
        case .started(let ids):
            var object: [String: JSONValue] = [
                "kind": .string("started"), "conversation_id": .string(ids.conversationID),
                "message_id": .string(ids.messageID),
            ]
            if let taskID = ids.taskID { object["task_id"] = .string(taskID) }
            return .object(object)
        case .upstream(.answerDelta(_, let text)):
            return .object(["kind": .string("delta"), "text": .string(text)])
        case .upstream(let event):
            var buffer = ByteBuffer()
            DifyWire.write(event, into: &buffer)
            let frame = String(buffer: buffer)
            guard frame.hasPrefix("data: ") else { return nil }
            return .object(["kind": .string("dify"), "data": .string(String(frame.dropFirst(6).dropLast(2)))])
        case .ended, .sync:
            return nil
        }
    }

    /// Reads back `stored`; `ids` are the turn's, for its deltas.
    init?(stored value: JSONValue, ids: TurnIDs?) {
        guard case .object(let object) = value, case .string(let kind)? = object["kind"] else { return nil }
        switch kind {
        case "started":
            guard case .string(let conversationID)? = object["conversation_id"],
                case .string(let messageID)? = object["message_id"]
            else { return nil }
            var taskID: String?
            if case .string(let id)? = object["task_id"] { taskID = id }
            self = .started(TurnIDs(conversationID: conversationID, messageID: messageID, taskID: taskID))
        case "delta":
            guard case .string(let text)? = object["text"] else { return nil }
            let envelope = DifyStreamIDs(
                taskID: ids?.taskID, messageID: ids?.messageID, conversationID: ids?.conversationID)
            self = .upstream(.answerDelta(envelope, text: text))
        case "dify":
            guard case .string(let data)? = object["data"] else { return nil }
            let event = DifyStreamEvent(decodingData: Array(data.utf8))
            if case .malformed = event { return nil }
            self = .upstream(event)
        default:
            return nil
        }
    }
}

/// The ids Dify gives a turn in its first event.
struct TurnIDs: Sendable, Equatable {
    var conversationID: String
    var messageID: String
    var taskID: String?
}

/// How a turn ended, with what each wire's last event says.
enum TurnEnding: Sendable, Equatable {
    /// `message_end` arrived: the whole answer and Dify's metadata (usage, retriever_resources); `stopped` when
    /// the user stopped it first.
    case completed(TurnIDs, answer: String, metadata: JSONValue, stopped: Bool)
    /// Dify refused or broke off; the ids when it had named the turn.
    case failed(DifyError, ids: TurnIDs?)
    /// The gateway shut down before the answer ended (what arrived is kept), or, found after a crash, the answer
    /// could not be recovered from Dify.
    case interrupted(ids: TurnIDs?, reason: String)

    var ids: TurnIDs? {
        switch self {
        case .completed(let ids, _, _, _): ids
        case .failed(_, let ids), .interrupted(let ids, _): ids
        }
    }

    /// The turn's state once it ended.
    var status: TurnStatus {
        switch self {
        case .completed(_, _, _, let stopped): stopped ? .stopped : .completed
        case .failed: .failed
        case .interrupted: .interrupted
        }
    }
}

/// A turn's state: `accepted → streaming → completed | failed | stopped | interrupted`.
enum TurnStatus: String, Sendable, Codable {
    case accepted, streaming, completed, failed, stopped, interrupted

    var isFinal: Bool { self != .accepted && self != .streaming }
}
