import Foundation
import Logging

/// Reads one Dify stream to its end, whatever the client does, relays what a client can use,
/// and records the turn: the answer is stored even if the client disconnected halfway.
struct ChatStreamPump: Sendable {
    let store: ConversationStore
    let registry: ChatStreamRegistry
    let logger: Logger

    private enum Ending {
        case completed(JSONValue?)
        case failed(DifyError)
    }

    /// For a Dify that had not answered when the client's stream began: waits for it, then relays.
    func run(opening: Task<DifyEventStream, any Error>, session: ChatStreamSession, pending: MessageRecord) async {
        do {
            await run(try await opening.value, session: session, pending: pending)
        } catch {
            await finish(.failed(error as? DifyError ?? .unreachable(String(describing: error))), answer: "", ids: nil, session: session, pending: pending)
            await session.finish()
        }
    }

    func run(_ events: DifyEventStream, session: ChatStreamSession, pending: MessageRecord) async {
        var answer = ""
        var ids: (conversationID: String, messageID: String)?
        var ending: Ending?
        // Recording the start runs beside the relay: the client's first tokens never wait for the database.
        // Every later write of this stream awaits it, so the assistant row exists before it is updated.
        var startRecorded: Task<Void, Never>?
        do {
            for try await event in events {
                if ids == nil, let envelope = event.ids, let conversationID = envelope.conversationID, let messageID = envelope.messageID {
                    ids = (conversationID, messageID)
                    startRecorded = await started(conversationID: conversationID, messageID: messageID, taskID: envelope.taskID, session: session, pending: pending)
                }
                // After message_end the answer is settled; later events (workflow_finished, tts_message_end) are drained and ignored.
                guard ending == nil else { continue }
                switch event {
                case .answerDelta(_, let text):
                    answer += text
                    await session.publish(.delta(text))
                case .answerReplace(_, let text):
                    answer = text
                    await session.publish(.replace(text))
                case .messageEnd(_, let metadata):
                    ending = .completed(metadata)
                    await startRecorded?.value
                    await finish(.completed(metadata), answer: answer, ids: ids, session: session, pending: pending)
                case .messageFile(_, let id, let type, let url, let belongsTo):
                    await session.publish(.file(id: id, type: type, url: url, belongsTo: belongsTo))
                case .agentThought(_, let payload):
                    await session.publish(.thought(payload))
                case .workflow(_, let name, let payload):
                    await session.publish(Self.progress(name, payload))
                case .error(let status, let code, let message):
                    ending = .failed(.upstream(status: status ?? 500, code: code, message: message))
                case .malformed(let reason):
                    logger.warning("ignored a malformed Dify stream event", metadata: ["reason": .string(reason)])
                case .ping, .other:
                    continue   // keep-alives, TTS audio and unknown future events: nothing a text client needs
                }
                if case .failed = ending { break }
            }
        } catch {
            if ending == nil { ending = .failed(error as? DifyError ?? .unreachable(String(describing: error))) }
        }
        await startRecorded?.value
        switch ending {
        case .completed:
            break   // recorded and announced when message_end arrived
        case .failed(let error):
            await finish(.failed(error), answer: answer, ids: ids, session: session, pending: pending)
        case nil:
            await finish(.failed(.malformedResponse("the stream ended before message_end")), answer: answer, ids: ids, session: session, pending: pending)
        }
        if let taskID = await session.taskID { await registry.unregister(taskID: taskID) }
        await session.finish()
    }

    private func started(conversationID: String, messageID: String, taskID: String?, session: ChatStreamSession, pending: MessageRecord) async -> Task<Void, Never> {
        await session.setTaskID(taskID)
        if let taskID { await registry.register(taskID: taskID, session: session) }
        await session.publish(.start(conversationID: conversationID, messageID: messageID, taskID: taskID))
        return Task { [store, logger] in
            do {
                try await store.recordStreamStarted(conversationID: conversationID, messageID: messageID, taskID: taskID, for: pending, caller: session.caller)
            } catch {
                logger.error("could not record a stream's start", metadata: ["conversation_id": .string(conversationID), "error": .string("\(type(of: error))")])
            }
        }
    }

    private func finish(_ ending: Ending, answer: String, ids: (conversationID: String, messageID: String)?, session: ChatStreamSession, pending: MessageRecord) async {
        let stopped = await session.stopRequested
        let taskID = await session.taskID
        do {
            switch (ending, ids) {
            case (.completed, let ids?):
                try await store.recordStreamFinished(
                    conversationID: ids.conversationID, messageID: ids.messageID, taskID: taskID, caller: session.caller,
                    answer: answer, status: stopped ? .stopped : .complete, error: nil)
            case (.failed(let error), let ids?):
                try await store.recordStreamFinished(
                    conversationID: ids.conversationID, messageID: ids.messageID, taskID: taskID, caller: session.caller,
                    answer: answer, status: .failed, error: error.summary)
            case (.failed(let error), nil):
                try await store.recordFailure(error.summary, for: pending)
            case (.completed, nil):
                try await store.recordFailure("message_end arrived without conversation or message id", for: pending)
            }
        } catch {
            logger.error("could not record a stream's end", metadata: ["error": .string("\(type(of: error))")])
        }
        switch (ending, ids) {
        case (.completed(let metadata), let ids?):
            logger.info("chat streamed", metadata: ["conversation_id": .string(ids.conversationID), "stopped": .stringConvertible(stopped)])
            await session.publish(.done(conversationID: ids.conversationID, messageID: ids.messageID, answer: answer,
                                        metadata: metadata ?? .object([:]), stopped: stopped))
        case (.failed(let error), _):
            logger.warning("chat stream failed upstream", metadata: ["error": .string(error.summary)])
            let (status, detail) = APIErrorMiddleware.describe(error)
            await session.publish(.error(status: Int(status.code), detail: detail, code: error.upstreamCode))
        case (.completed, nil):
            await session.publish(.error(status: 502, detail: "Chat service temporarily unavailable. Please try again.", code: nil))
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

extension DifyError {
    /// Dify's own error code, when it sent one.
    var upstreamCode: String? {
        if case .upstream(_, let code, _) = self { return code }
        return nil
    }
}
