import Foundation
import Logging
import Tracing

/// The one task that reads a turn's Dify stream to its end, whatever its readers do: it appends what Dify sends
/// to the turn's log and records the turn. The answer is stored even if every reader went away halfway.
struct TurnRunner: Sendable {
    let turn: RunningTurn
    let pending: ConversationStore.PendingMessage
    let store: ConversationStore
    let registry: ChatStreamRegistry
    let metrics: GatewayMetrics
    /// Runs once the turn is recorded ended, before its readers see the end.
    var whenEnded: (@Sendable (TurnEnding, [TurnLog.Entry]) async -> Void)? = nil
    let logger: Logger

    private struct Progress {
        let ids: TurnIDs
        var firstTokenSeen = false
        /// Recording the start runs beside the stream, so the first tokens never wait for the database;
        /// recording the end awaits it, so the rows are written in order.
        var startRecorded: Task<Void, Never>?
    }

    /// Opens the stream with `open`, reports the outcome to `opening` and reads the events. A refusal that
    /// `opening` takes (the client's response has not started) is the handler's to answer and record.
    /// Its span runs from the request to Dify until the answer is stored.
    func run(opening: StreamOpening, _ open: @Sendable () async throws -> DifyEventStream) async {
        let handedOver = await withSpan("chat stream") { span in
            span.attributes["dify.system_id"] = turn.caller.systemID
            return await read(opening: opening, open, span: span)
        }
        // A refusal the handler took is the handler's to record, and then to end the turn with.
        if !handedOver { turn.finish() }
    }

    /// True when the handler took Dify's refusal of the stream's head.
    private func read(
        opening: StreamOpening, _ open: @Sendable () async throws -> DifyEventStream, span: any Span
    ) async -> Bool {
        let asked = ContinuousClock.now
        let events: DifyEventStream
        do {
            events = try await open()
        } catch {
            if Task.isCancelled {
                await conclude(.interrupted(ids: nil, reason: Self.shutdownReason), nil)
                return false
            }
            let error = error as? DifyError ?? .unreachable(String(describing: error))
            if opening.report(.refused(error)) { return true }
            await conclude(.failed(error, ids: nil), nil)
            return false
        }
        _ = opening.report(.opened)
        var progress: Progress?
        var settled = false
        let caller = turn.caller
        do {
            for try await event in events {
                if progress == nil, let ids = event.ids, let conversationID = ids.conversationID,
                    let messageID = ids.messageID
                {
                    progress = started(
                        TurnIDs(conversationID: conversationID, messageID: messageID, taskID: ids.taskID))
                    span.attributes["dify.conversation_id"] = conversationID
                }
                if case .answerDelta = event, progress?.firstTokenSeen == false {
                    progress?.firstTokenSeen = true
                    metrics.difyFirstToken(system: caller.systemID, after: ContinuousClock.now - asked)
                }
                switch event {
                case .ping:
                    continue  // each reader sends its own keep-alives
                case .malformed(let reason):
                    logger.warning("ignored a malformed Dify stream event", metadata: ["reason": .string(reason)])
                    continue
                case .error(let status, let code, let message):
                    guard !settled else { continue }
                    settled = true
                    await conclude(
                        .failed(.upstream(status: status ?? 500, code: code, message: message), ids: progress?.ids),
                        progress)
                case .messageEnd(_, let metadata):
                    turn.log.append(.upstream(event))
                    guard !settled else { continue }
                    settled = true
                    guard let progress else {
                        await conclude(
                            .failed(
                                .malformedResponse("message_end arrived without conversation or message id"), ids: nil),
                            nil)
                        continue
                    }
                    let stopped = await stopWasRequested(progress.ids)
                    await conclude(
                        .completed(
                            progress.ids, answer: turn.log.textSoFar.text, metadata: metadata ?? .object([:]),
                            stopped: stopped), progress)
                case .answerDelta(let ids, let text):
                    // The most frequent entry keeps only what its readers use: Dify's JSON (for `/dify/v1`) and the
                    // text; the ids are the turn's, in its `started` entry.
                    turn.log.append(.upstream(.answerDelta(DifyStreamIDs(json: ids.json), text: text)))
                default:
                    // After the ending, only a Dify client reads on: Dify's trailing events end its stream with Dify's.
                    turn.log.append(
                        .upstream(DifyWire.withClientUser(event, difyUser: caller.difyUser, user: caller.userID)))
                }
            }
            if !settled {
                await conclude(
                    Task.isCancelled
                        ? .interrupted(ids: progress?.ids, reason: Self.shutdownReason)
                        : .failed(.malformedResponse("the stream ended before message_end"), ids: progress?.ids),
                    progress)
            }
        } catch {
            if !settled {
                await conclude(
                    Task.isCancelled
                        ? .interrupted(ids: progress?.ids, reason: Self.shutdownReason)
                        : .failed(error as? DifyError ?? .unreachable(String(describing: error)), ids: progress?.ids),
                    progress)
            }
        }
        return false
    }

    /// Dify ends a stopped stream as a finished one. A stop sent through another replica is only in the database.
    private func stopWasRequested(_ ids: TurnIDs) async -> Bool {
        if turn.stopRequested { return true }
        guard store.sharedByReplicas, let taskID = ids.taskID else { return false }
        do {
            return try await store.stopRequested(ofTask: taskID)
        } catch {
            logger.warning(
                "could not read whether a turn was stopped", metadata: ["error": .string("\(type(of: error))")])
            return false
        }
    }

    static var shutdownReason: String { ShutdownState.interruptedDetail }

    private func started(_ ids: TurnIDs) -> Progress {
        turn.setTaskID(ids.taskID)
        if let taskID = ids.taskID { registry.register(taskID: taskID, for: turn) }
        turn.log.append(.started(ids))
        let (store, logger, pending, caller) = (store, logger, pending, turn.caller)
        let recording = Task {
            do {
                try await store.recordStreamStarted(ids, for: pending, caller: caller)
            } catch {
                logger.error(
                    "could not record a stream's start",
                    metadata: [
                        "conversation_id": .string(ids.conversationID), "error": .string("\(type(of: error))"),
                    ])
            }
        }
        return Progress(ids: ids, startRecorded: recording)
    }

    /// Records how the turn ended, then appends the ending, which the readers of the gateway's API end with.
    private func conclude(_ ending: TurnEnding, _ progress: Progress?) async {
        await progress?.startRecorded?.value
        let text = turn.log.textSoFar.text
        // A database that refuses for a moment (locked, failing over) must not leave the turn running.
        for delay in [100, 400, 1_600, 6_400, 0] {
            do {
                try await store.recordTurnEnded(
                    ending, partialAnswer: text, lastEventID: turn.log.nextID, for: pending, caller: turn.caller)
                break
            } catch {
                logger.error(
                    "could not record a stream's end", metadata: ["error": .string("\(type(of: error))")])
                if delay > 0 { try? await Task.sleep(for: .milliseconds(delay)) }
            }
        }
        count(ending)
        announce(ending)
        await whenEnded?(ending, Array(turn.log.held(after: 0).entries))
        turn.log.append(.ended(ending))
    }

    private func count(_ ending: TurnEnding) {
        let system = turn.caller.systemID
        let outcome: GatewayMetrics.ChatOutcome
        switch ending {
        case .completed(_, _, let metadata, let stopped):
            outcome = stopped ? .stopped : turn.clientGone ? .clientGone : .completed
            if let usage = DifyUsage(metadata: metadata) { metrics.usage(system: system, usage) }
        case .failed: outcome = .failed
        case .interrupted: outcome = .stopped
        }
        metrics.chat(system: system, mode: .stream, outcome: outcome)
    }

    private func announce(_ ending: TurnEnding) {
        switch ending {
        case .interrupted: logger.warning("chat stream interrupted by shutdown")
        case .failed(let error, _):
            logger.warning("chat stream failed upstream", metadata: ["error": .string(error.summary)])
        case .completed(let ids, _, _, let stopped):
            logger.info(
                "chat streamed",
                metadata: ["conversation_id": .string(ids.conversationID), "stopped": .stringConvertible(stopped)])
        }
    }
}
