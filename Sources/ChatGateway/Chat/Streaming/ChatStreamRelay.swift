import Foundation
import Logging
import Tracing

/// Reads one Dify stream to its end, whatever the client does, relays what a client can use, and records the
/// turn: the answer is stored even if the client disconnected halfway. It runs as the stream's own task, owned by
/// `ChatStreamRegistry`, not by the client's request.
struct ChatStreamRelay: Sendable {
    let session: ChatStreamSession
    let pending: ConversationStore.PendingMessage
    let store: ConversationStore
    let registry: ChatStreamRegistry
    let metrics: GatewayMetrics
    let logger: Logger

    enum Ending: Sendable {
        case completed(JSONValue?)
        case failed(DifyError)
        /// The gateway is shutting down and `SHUTDOWN_GRACE` passed: what arrived so far is kept, marked stopped.
        case interrupted
    }

    private struct Turn {
        let conversationID: String
        let messageID: String
        var answer = ""
        var firstTokenSeen = false
        /// Recording the start runs beside the relay, so the client's first tokens never wait for the database;
        /// recording the end awaits it, so the rows are written in order.
        var startRecorded: Task<Void, Never>?
    }

    /// Opens the stream with `open`, reports the outcome to `opening` and relays the events. A refusal that
    /// `opening` takes (the client's response has not started) is the handler's to answer and record.
    /// Its span runs from the request to Dify until the answer is stored.
    func run(opening: StreamOpening, _ open: @Sendable () async throws -> DifyEventStream) async {
        await withSpan("chat stream") { span in
            span.attributes["dify.system_id"] = session.caller.systemID
            await relay(opening: opening, open, span: span)
        }
    }

    private func relay(
        opening: StreamOpening, _ open: @Sendable () async throws -> DifyEventStream, span: any Span
    ) async {
        let asked = ContinuousClock.now
        let events: DifyEventStream
        do {
            events = try await open()
        } catch {
            if Task.isCancelled { return await conclude(.interrupted, turn: nil) }
            let error = error as? DifyError ?? .unreachable(String(describing: error))
            if opening.report(.refused(error)) { return }
            return await conclude(.failed(error), turn: nil)
        }
        _ = opening.report(.opened)
        // A Dify client is sent the rest of Dify's stream too (a trailing `tts_message_end`, a chatflow's
        // `workflow_finished`), so its stream ends with Dify's.
        defer { session.finish() }
        var turn: Turn?
        var settled = false
        do {
            for try await event in events {
                if turn == nil, let ids = event.ids, let conversationID = ids.conversationID,
                    let messageID = ids.messageID
                {
                    turn = started(conversationID: conversationID, messageID: messageID, taskID: ids.taskID)
                    span.attributes["dify.conversation_id"] = conversationID
                }
                if case .answerDelta = event, turn?.firstTokenSeen == false {
                    turn?.firstTokenSeen = true
                    metrics.difyFirstToken(system: session.caller.systemID, after: ContinuousClock.now - asked)
                }
                if session.wire == .dify, DifyWire.relaysAsIs(event) {
                    let caller = session.caller
                    session.publish(
                        .dify(DifyWire.withClientUser(event, difyUser: caller.difyUser, user: caller.userID)))
                }
                // After message_end or error, the rest of the stream is drained; the gateway's clients get none of it.
                guard !settled, let ending = relay(event, turn: &turn) else { continue }
                settled = true
                await conclude(ending, turn: turn)
            }
            if !settled {
                let ending: Ending =
                    Task.isCancelled ? .interrupted : .failed(.malformedResponse("the stream ended before message_end"))
                await conclude(ending, turn: turn)
            }
        } catch {
            if !settled {
                let ending: Ending =
                    Task.isCancelled
                    ? .interrupted : .failed(error as? DifyError ?? .unreachable(String(describing: error)))
                await conclude(ending, turn: turn)
            }
        }
    }

    /// Passes one event on to a client of the gateway's own API; returns how the turn ends when the event decides it.
    private func relay(_ event: DifyStreamEvent, turn: inout Turn?) -> Ending? {
        switch event {
        case .answerDelta(_, let text):
            turn?.answer += text
            show(.delta(text))
        case .answerReplace(_, let text):
            turn?.answer = text
            show(.replace(text))
        case .messageEnd(_, let metadata):
            return .completed(metadata)
        case .messageFile(_, let id, let type, let url, let belongsTo):
            show(.file(id: id, type: type, url: url, belongsTo: belongsTo))
        case .agentThought(_, let payload):
            show(.thought(payload))
        case .workflow(_, let name, let payload):
            show(Self.progress(name, payload))
        case .error(let status, let code, let message):
            return .failed(.upstream(status: status ?? 500, code: code, message: message))
        case .malformed(let reason):
            logger.warning("ignored a malformed Dify stream event", metadata: ["reason": .string(reason)])
        case .ping, .other:
            break  // keep-alives, TTS audio and unknown future events: nothing a text client needs
        }
        return nil
    }

    /// An event of the gateway's own stream; a Dify client has Dify's events instead.
    private func show(_ event: ChatStreamEvent) {
        if session.wire == .gateway { session.publish(event) }
    }

    private func started(conversationID: String, messageID: String, taskID: String?) -> Turn {
        session.setTaskID(taskID)
        if let taskID { registry.register(taskID: taskID, session: session) }
        show(.start(conversationID: conversationID, messageID: messageID, taskID: taskID))
        let (store, logger, pending, caller) = (store, logger, pending, session.caller)
        let recording = Task {
            do {
                try await store.recordStreamStarted(
                    conversationID: conversationID, messageID: messageID, taskID: taskID, for: pending, caller: caller)
            } catch {
                logger.error(
                    "could not record a stream's start",
                    metadata: [
                        "conversation_id": .string(conversationID), "error": .string("\(type(of: error))"),
                    ])
            }
        }
        return Turn(conversationID: conversationID, messageID: messageID, startRecorded: recording)
    }

    /// Records how the turn ended, then tells the client (`done` or `error`) and ends its stream.
    private func conclude(_ ending: Ending, turn: Turn?) async {
        await turn?.startRecorded?.value
        let stopped = session.stopRequested
        await record(ending, turn: turn, stopped: stopped)
        count(ending, stopped: stopped)
        announce(ending, turn: turn, stopped: stopped)
        if let taskID = session.taskID { registry.unregister(taskID: taskID) }
        if session.wire == .gateway { session.finish() }
    }

    private func record(_ ending: Ending, turn: Turn?, stopped: Bool) async {
        let usage: DifyUsage? = if case .completed(let metadata) = ending { DifyUsage(metadata: metadata) } else { nil }
        let (status, reason): (StoredMessage.Status, String?) =
            switch ending {
            case .completed: (stopped ? .stopped : .complete, nil)
            case .failed(let error): (.failed, error.summary)
            case .interrupted: (.stopped, "the gateway restarted during the answer")
            }
        do {
            if let turn {
                try await store.recordStreamFinished(
                    conversationID: turn.conversationID, messageID: turn.messageID, taskID: session.taskID,
                    for: pending,
                    caller: session.caller, answer: turn.answer, status: status, error: reason, usage: usage)
            } else {
                try await store.recordFailure(
                    reason ?? "message_end arrived without conversation or message id", for: pending,
                    caller: session.caller)
            }
        } catch {
            logger.error("could not record a stream's end", metadata: ["error": .string("\(type(of: error))")])
        }
    }

    private func count(_ ending: Ending, stopped: Bool) {
        let system = session.caller.systemID
        let outcome: GatewayMetrics.ChatOutcome
        switch ending {
        case .completed(let metadata):
            outcome = stopped ? .stopped : session.clientGone ? .clientGone : .completed
            if let usage = DifyUsage(metadata: metadata) { metrics.usage(system: system, usage) }
        case .failed: outcome = .failed
        case .interrupted: outcome = .stopped
        }
        metrics.chat(system: system, mode: .stream, outcome: outcome)
    }

    private func announce(_ ending: Ending, turn: Turn?, stopped: Bool) {
        if case .interrupted = ending { logger.warning("chat stream interrupted by shutdown") }
        if case .failed(let error) = ending {
            logger.warning("chat stream failed upstream", metadata: ["error": .string(error.summary)])
        }
        guard session.wire == .gateway else { return announceToDifyClient(ending, turn: turn) }
        switch (ending, turn) {
        case (.interrupted, _):
            session.publish(.error(status: 503, detail: ShutdownState.interruptedDetail, code: "gateway_restarting"))
        case (.completed(let metadata), let turn?):
            logger.info(
                "chat streamed",
                metadata: ["conversation_id": .string(turn.conversationID), "stopped": .stringConvertible(stopped)])
            session.publish(
                .done(
                    conversationID: turn.conversationID, messageID: turn.messageID, answer: turn.answer,
                    metadata: metadata ?? .object([:]), stopped: stopped))
        case (.failed(let error), _):
            let (status, detail) = APIErrorMiddleware.describe(error)
            session.publish(.error(status: Int(status.code), detail: detail, code: error.upstreamCode))
        case (.completed, nil):
            session.publish(
                .error(status: 502, detail: "Chat service temporarily unavailable. Please try again.", code: nil))
        }
    }

    /// Dify's own `message_end` was relayed already; a stream that ended otherwise gets Dify's `error` event.
    private func announceToDifyClient(_ ending: Ending, turn: Turn?) {
        let body: DifyWire.ErrorBody
        switch ending {
        case .completed where turn != nil: return
        case .completed:
            body = .init(
                describing: DifyError.malformedResponse("message_end arrived without conversation or message id"))
        case .failed(let error): body = .init(describing: error)
        case .interrupted:
            body = .init(status: 503, code: "gateway_restarting", message: ShutdownState.interruptedDetail)
        }
        session.publish(
            .difyError(.init(conversationID: turn?.conversationID, messageID: turn?.messageID, body: body)))
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
