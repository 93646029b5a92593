import Foundation
import Logging
import NIOCore

/// Reads one Dify stream to its end, whatever the client does, relays what a client can use, and records the
/// turn: the answer is stored even if the client disconnected halfway.
///
/// Dify's events arrive on the session's event loop and are relayed there, synchronously; only the database
/// writes (the stream's start, its end) run as tasks of their own.
final class ChatStreamRelay: DifyStreamSink, @unchecked Sendable {
    // Every stored `var` is touched on `session.eventLoop` only; that is what makes `@unchecked Sendable` sound.
    let session: ChatStreamSession
    private let store: ConversationStore
    private let registry: ChatStreamRegistry
    private let logger: Logger
    private let pending: MessageRecord
    private let done: EventLoopPromise<Void>

    private var answer = ""
    private var ids: (conversationID: String, messageID: String)?
    /// message_end, error or the stream's end has decided how the turn ends; later events are drained and ignored.
    private var settled = false
    /// Recording the start runs beside the relay: the client's first tokens never wait for the database.
    /// Recording the end awaits it, so the assistant row exists before it is updated.
    private var startRecorded: Task<Void, Never>?

    enum Ending: Sendable {
        case completed(JSONValue?)
        case failed(DifyError)
    }

    init(session: ChatStreamSession, pending: MessageRecord, store: ConversationStore, registry: ChatStreamRegistry, logger: Logger) {
        self.session = session
        self.pending = pending
        self.store = store
        self.registry = registry
        self.logger = logger
        self.done = session.eventLoop.makePromise(of: Void.self)
    }

    /// Completes once the turn is recorded and the client's stream ended (or the client was gone).
    func finished() async {
        try? await done.futureResult.get()
    }

    /// Dify refused the stream before the client's response started: nothing is relayed (the caller records
    /// the failure and answers with an HTTP error).
    func abandon() {
        done.succeed()
    }

    /// Dify never accepted the stream (for a stream the client already got, because Dify was slow to answer).
    func openingFailed(_ error: DifyError) {
        session.eventLoop.execute { [self] in end(error) }
    }

    func receive(_ event: DifyStreamEvent) {
        if ids == nil, let envelope = event.ids, let conversationID = envelope.conversationID, let messageID = envelope.messageID {
            ids = (conversationID, messageID)
            started(conversationID: conversationID, messageID: messageID, taskID: envelope.taskID)
        }
        guard !settled else { return }
        switch event {
        case .answerDelta(_, let text):
            answer += text
            session.publish(.delta(text))
        case .answerReplace(_, let text):
            answer = text
            session.publish(.replace(text))
        case .messageEnd(_, let metadata):
            conclude(.completed(metadata))
        case .messageFile(_, let id, let type, let url, let belongsTo):
            session.publish(.file(id: id, type: type, url: url, belongsTo: belongsTo))
        case .agentThought(_, let payload):
            session.publish(.thought(payload))
        case .workflow(_, let name, let payload):
            session.publish(Self.progress(name, payload))
        case .error(let status, let code, let message):
            conclude(.failed(.upstream(status: status ?? 500, code: code, message: message)))
        case .malformed(let reason):
            logger.warning("ignored a malformed Dify stream event", metadata: ["reason": .string(reason)])
        case .ping, .other:
            break   // keep-alives, TTS audio and unknown future events: nothing a text client needs
        }
    }

    func end(_ error: DifyError?) {
        guard !settled else { return }
        conclude(.failed(error ?? .malformedResponse("the stream ended before message_end")))
    }

    private func started(conversationID: String, messageID: String, taskID: String?) {
        session.setTaskID(taskID)
        if let taskID { registry.register(taskID: taskID, session: session) }
        session.publish(.start(conversationID: conversationID, messageID: messageID, taskID: taskID))
        let (store, logger, pending, caller) = (store, logger, pending, session.caller)
        startRecorded = Task {
            do {
                try await store.recordStreamStarted(conversationID: conversationID, messageID: messageID, taskID: taskID, for: pending, caller: caller)
            } catch {
                logger.error("could not record a stream's start", metadata: ["conversation_id": .string(conversationID), "error": .string("\(type(of: error))")])
            }
        }
    }

    /// Records how the turn ended, then tells the client (`done` or `error`) and ends its stream.
    private func conclude(_ ending: Ending) {
        settled = true
        let (ids, answer, startRecorded, eventLoop) = (ids, answer, startRecorded, session.eventLoop)
        Task { [self] in
            await startRecorded?.value
            let stopped = session.stopRequested
            await record(ending, answer: answer, ids: ids, stopped: stopped)
            eventLoop.execute { [self] in
                announce(ending, answer: answer, ids: ids, stopped: stopped)
                if let taskID = session.taskID { registry.unregister(taskID: taskID) }
                session.finish()
                done.succeed()
            }
        }
    }

    private func record(_ ending: Ending, answer: String, ids: (conversationID: String, messageID: String)?, stopped: Bool) async {
        let (status, reason): (StoredMessage.Status, String?) = switch ending {
        case .completed: (stopped ? .stopped : .complete, nil)
        case .failed(let error): (.failed, error.summary)
        }
        do {
            if let ids {
                try await store.recordStreamFinished(
                    conversationID: ids.conversationID, messageID: ids.messageID, taskID: session.taskID, caller: session.caller,
                    answer: answer, status: status, error: reason)
            } else {
                try await store.recordFailure(reason ?? "message_end arrived without conversation or message id", for: pending)
            }
        } catch {
            logger.error("could not record a stream's end", metadata: ["error": .string("\(type(of: error))")])
        }
    }

    private func announce(_ ending: Ending, answer: String, ids: (conversationID: String, messageID: String)?, stopped: Bool) {
        switch (ending, ids) {
        case (.completed(let metadata), let ids?):
            logger.info("chat streamed", metadata: ["conversation_id": .string(ids.conversationID), "stopped": .stringConvertible(stopped)])
            session.publish(.done(conversationID: ids.conversationID, messageID: ids.messageID, answer: answer,
                                  metadata: metadata ?? .object([:]), stopped: stopped))
        case (.failed(let error), _):
            logger.warning("chat stream failed upstream", metadata: ["error": .string(error.summary)])
            let (status, detail) = APIErrorMiddleware.describe(error)
            session.publish(.error(status: Int(status.code), detail: detail, code: error.upstreamCode))
        case (.completed, nil):
            session.publish(.error(status: 502, detail: "Chat service temporarily unavailable. Please try again.", code: nil))
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
