import NIOCore

/// Writes a turn's log entries as one wire's server-sent events, each with its entry's `id:`. One per reader:
/// an encoder may remember what its reader was already sent.
protocol TurnEventEncoder: Sendable {
    /// Writes `entries`; true when the wire's stream ends with them (what follows is not for this wire).
    mutating func encode(_ entries: ArraySlice<TurnLog.Entry>, into buffer: inout ByteBuffer) -> Bool
    /// A comment or event that keeps an idle connection open.
    var keepAlive: String { get }
}

/// The gateway's own events (`/v1`): `start`, `delta`, ..., then `done` or `error`, which end the stream.
struct GatewayEventEncoder: TurnEventEncoder {
    let turnID: String
    /// The caller's system's: `done`'s sources carry their links.
    var links = SourceLinks()
    var keepAlive: String { ChatStreamEvent.keepAlive }

    mutating func encode(_ entries: ArraySlice<TurnLog.Entry>, into buffer: inout ByteBuffer) -> Bool {
        // Deltas that queued up for a slow reader go out as one, with the last one's id.
        var pendingDelta: (id: Int, text: String)?
        func flushDelta() {
            if let delta = pendingDelta { ChatStreamEvent.delta(delta.text).write(id: delta.id, into: &buffer) }
            pendingDelta = nil
        }
        for entry in entries {
            if case .upstream(.answerDelta(_, let text)) = entry.event {
                if pendingDelta == nil {
                    pendingDelta = (entry.id, text)
                } else {
                    pendingDelta!.id = entry.id
                    pendingDelta!.text += text
                }
                continue
            }
            flushDelta()
            guard let event = event(for: entry) else { continue }
            event.write(id: entry.id, into: &buffer)
            if case .ended = entry.event { return true }
        }
        flushDelta()
        return false
    }

    private func event(for entry: TurnLog.Entry) -> ChatStreamEvent? {
        switch entry.event {
        case .started(let ids):
            return .start(
                turnID: turnID, conversationID: ids.conversationID, messageID: ids.messageID, taskID: ids.taskID)
        case .sync(let text, _):
            return .sync(text: text, lastEventID: entry.id)
        case .upstream(let event):
            return Self.event(for: event)
        case .ended(.completed(let ids, let answer, let metadata, let stopped)):
            return .done(
                conversationID: ids.conversationID, messageID: ids.messageID, answer: answer,
                metadata: links.linked(metadata: metadata), stopped: stopped)
        case .ended(.failed(let error, _)):
            let (status, detail) = APIErrorMiddleware.describe(error)
            return .error(status: Int(status.code), detail: detail, code: error.upstreamCode)
        case .ended(.interrupted(_, let reason)):
            return .error(status: 503, detail: reason, code: "gateway_restarting")
        }
    }

    /// What a client of the gateway's API sees of one of Dify's events; nil for what it has no use for
    /// (`message_end`, which `done` follows, keep-alives, TTS audio, unknown events).
    private static func event(for event: DifyStreamEvent) -> ChatStreamEvent? {
        switch event {
        case .answerDelta(_, let text): .delta(text)
        case .answerReplace(_, let text): .replace(text)
        case .messageFile(_, let id, let type, let url, let belongsTo):
            .file(id: id, type: type, url: url, belongsTo: belongsTo)
        case .agentThought(_, let payload): .thought(payload)
        case .workflow(_, let name, let payload): progress(name, payload)
        case .messageEnd, .error, .ping, .other, .malformed: nil
        }
    }

    /// Chatflow events carry a `data` object; a UI needs its step, title, node type and status.
    static func progress(_ name: String, _ payload: JSONValue) -> ChatStreamEvent {
        guard case .object(let fields) = payload, case .object(let data)? = fields["data"] else {
            return .progress(event: name, title: nil, nodeType: nil, status: nil)
        }
        func text(_ key: String) -> String? { if case .string(let value)? = data[key] { value } else { nil } }
        return .progress(event: name, title: text("title"), nodeType: text("node_type"), status: text("status"))
    }
}

/// Dify's own events (`/dify/v1`), relayed as Dify sent them, to the end of Dify's stream (a trailing
/// `tts_message_end` or `workflow_finished` included); a turn that did not end with Dify's `message_end` ends
/// with Dify's `error` event.
struct DifyEventEncoder: TurnEventEncoder {
    private var sentMessageEnd = false
    /// Whether this reader was sent any text yet: a catch-up then replaces it rather than adding to it.
    private var sentText = false
    var keepAlive: String { DifyWire.ping }

    mutating func encode(_ entries: ArraySlice<TurnLog.Entry>, into buffer: inout ByteBuffer) -> Bool {
        for entry in entries {
            buffer.writeString("id: \(entry.id)\n")
            let before = buffer.writerIndex
            switch entry.event {
            case .started:
                break  // Dify's own first event names the turn
            case .upstream(let event):
                switch event {
                case .messageEnd: sentMessageEnd = true
                case .answerDelta, .answerReplace: sentText = true
                default: break
                }
                DifyWire.write(event, into: &buffer)
            case .sync(let text, let ids):
                // Dify's clients append `message` events and take `message_replace` as the whole answer.
                DifyWire.write(
                    sentText ? .answerReplace(Self.ids(ids), text: text) : .answerDelta(Self.ids(ids), text: text),
                    into: &buffer)
                sentText = true
            case .ended(.completed(let ids, _, let metadata, _)):
                // Replayed from the database, the turn's `message_end` is no longer held: it is made again.
                if !sentMessageEnd { DifyWire.write(.messageEnd(Self.ids(ids), metadata: metadata), into: &buffer) }
                sentMessageEnd = true
            case .ended(let ending):
                DifyWire.write(Self.errorEvent(ending), into: &buffer)
            }
            // An entry this wire shows nothing of takes no `id:` line either.
            if buffer.writerIndex == before { buffer.moveWriterIndex(to: before - "id: \(entry.id)\n".utf8.count) }
        }
        return false
    }

    private static func ids(_ ids: TurnIDs?) -> DifyStreamIDs {
        DifyStreamIDs(taskID: ids?.taskID, messageID: ids?.messageID, conversationID: ids?.conversationID)
    }

    private static func errorEvent(_ ending: TurnEnding) -> DifyWire.ErrorEvent {
        let body: DifyWire.ErrorBody =
            switch ending {
            case .failed(let error, _): .init(describing: error)
            case .interrupted(_, let reason): .init(status: 503, code: "gateway_restarting", message: reason)
            case .completed: .init(status: 500, code: "internal_server_error", message: "")
            }
        return .init(conversationID: ending.ids?.conversationID, messageID: ending.ids?.messageID, body: body)
    }
}

extension DifyError {
    /// Dify's own error code, when it sent one.
    var upstreamCode: String? {
        if case .upstream(_, let code, _) = self { return code }
        return nil
    }
}
