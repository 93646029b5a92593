import Foundation
import Logging

/// Sends one message to Dify, blocking or streaming, and records both sides of the turn.
/// The user's message is stored before the upstream call and survives any upstream failure.
struct ChatService: Sendable {
    let dify: any DifyClient
    let targets: DifyTargetResolver
    let store: ConversationStore
    let streams: ChatStreamRegistry
    let metrics: GatewayMetrics
    let budgets: BudgetGuard?
    let limits: ChatLimits
    /// This process, as the holder of the turns it runs.
    let holder: String

    /// What a wire may add to a turn beyond its message and Dify's fields.
    struct TurnOptions: Sendable {
        /// What Dify is asked, when it is more than the stored message (a transcript of earlier turns before it).
        var difyQuery: String?
        /// A client's auxiliary request (a title, tags): stored and counted as a task.
        var isTask = false
        /// Dify `files` made once the message is stored and the turn admitted, just before Dify is asked (uploads):
        /// a repeated or refused request makes none. Throws `DifyError` only.
        var files: (@Sendable () async throws -> [JSONValue])?
        /// On a question asked again: the Dify message id of its first attempt, kept on the user's message.
        var regenerates: String?
        /// Stands for the request in an `Idempotency-Key`'s hash, when the turn depends on more than the request.
        var fingerprint: JSONValue?
        /// The wire the turn came through (`/v1`, `page`, `/dify/v1`, `/openai/v1`), told to webhooks.
        var channel: String?
        /// Runs once the turn is recorded ended, before a client sees its end; given the ending and, for a stream,
        /// the turn's log.
        var whenEnded: (@Sendable (TurnEnding, [TurnLog.Entry]) async -> Void)?
    }

    struct ChatLimits: Sendable {
        var maxMessageCharacters: Int
        var maxInputsDepth = 8
        /// How long a streaming chat waits for Dify's answer head before the client's stream starts anyway;
        /// also the interval of the stream's keep-alive comments.
        var streamKeepAlive: Duration
    }

    /// What every chat does before Dify is called: validate, find the system's Dify, check the conversation
    /// is the caller's, and store the user's message.
    private func prepare(
        _ message: String, conversationID rawConversationID: String?, inputs: [String: JSONValue],
        extra: [String: JSONValue], options: TurnOptions, as caller: CallerIdentity, idempotency: IdempotencyRecord?
    )
        async throws -> (DifyChatRequest, DifyTarget, ConversationStore.PendingMessage, BudgetGuard.Hold?)
    {
        let conversationID = try validate(message: message, conversationID: rawConversationID, inputs: inputs)
        let target = try targets.target(forSystem: caller.systemID)
        if let conversationID { try caller.requireOwnership(try await store.owner(ofConversation: conversationID)) }
        let hold: BudgetGuard.Hold?
        do {
            hold = try await budgets?.reserve(for: caller)
        } catch let refusal as BudgetGuard.Refusal {
            try await store.recordRefusedUserMessage(
                caller, conversationID: conversationID, content: message, reason: refusal.detail,
                event: refusal.event)
            metrics.budgetRefused(system: caller.systemID)
            throw LimitError.budgetExhausted(
                detail: refusal.detail, resetsAt: refusal.resetsAt, retryAfter: refusal.retryAfter)
        }
        let pending: ConversationStore.PendingMessage
        do {
            pending = try await store.recordPendingUserMessage(
                caller, conversationID: conversationID, content: message, holder: holder, idempotency: idempotency,
                isTask: options.isTask, files: extra["files"]?.arrayValue ?? [], regenerates: options.regenerates,
                channel: options.channel)
        } catch {
            await budgets?.release(hold)
            throw error
        }
        return (
            DifyChatRequest(
                query: options.difyQuery ?? message, user: caller.difyUser, conversationID: conversationID,
                inputs: inputs, extra: extra),
            target, pending, hold
        )
    }

    /// Starts a streaming answer as a task of the registry's. Dify's answer head is awaited for up to the keep-alive
    /// interval: a refusal in that time (Dify down, 404, 429, bad input) is an honest HTTP error, recorded. A Dify
    /// slower than that gets the client's stream started anyway, with keep-alives, and a later refusal arrives as an
    /// `error` event. Either way the answer is stored however the client behaves. `extra` is Dify's other chat
    /// fields.
    func stream(
        _ message: String, conversationID: String?, inputs: [String: JSONValue], extra: [String: JSONValue] = [:],
        options: TurnOptions = .init(), as caller: CallerIdentity, idempotency: IdempotencyRecord? = nil,
        logger: Logger
    )
        async throws -> RunningTurn
    {
        let (request, target, pending, hold) = try await prepare(
            message, conversationID: conversationID, inputs: inputs, extra: extra, options: options, as: caller,
            idempotency: idempotency)
        let turn = RunningTurn(id: pending.turnID, caller: caller, question: message, createdAt: pending.createdAt)
        // The answer is stored when the turn ends: then its cost is in the sums, and the hold can go.
        turn.onFinish { [budgets] in await budgets?.release(hold) }
        let runner = TurnRunner(
            turn: turn, pending: pending, store: store, registry: streams, metrics: metrics,
            whenEnded: options.whenEnded, logger: logger)
        let opening = StreamOpening()
        streams.launch(turn) { [dify] in
            await runner.run(opening: opening) {
                try await dify.streamMessage(try await Self.withFiles(request, options), to: target)
            }
        }
        switch await opening.wait(upTo: limits.streamKeepAlive) {
        case .opened, .stillWaiting:
            return turn
        case .refused(let error):
            metrics.chat(system: caller.systemID, mode: .stream, outcome: .failed)
            defer { turn.finish() }
            try await store.recordFailure(error, for: pending, caller: caller)
            turn.log.append(.ended(.failed(error, ids: nil)))
            logger.warning(
                "chat stream refused upstream",
                metadata: ["system_id": .string(caller.systemID), "error": .string(error.summary)])
            throw error
        }
    }

    /// A blocking answer. The turn is registered while it runs, so a repeated request can wait for it.
    func send(
        _ message: String, conversationID rawConversationID: String?, inputs: [String: JSONValue],
        extra: [String: JSONValue] = [:], options: TurnOptions = .init(), as caller: CallerIdentity,
        idempotency: IdempotencyRecord? = nil, logger: Logger
    ) async throws -> (answer: DifyChatAnswer, turnID: String) {
        let received = ContinuousClock.now
        let (request, target, pending, hold) = try await prepare(
            message, conversationID: rawConversationID, inputs: inputs, extra: extra, options: options, as: caller,
            idempotency: idempotency)
        let turn = RunningTurn(id: pending.turnID, caller: caller, question: message, createdAt: pending.createdAt)
        defer { turn.finish() }
        return try await streams.run(turn) {
            let started = ContinuousClock.now
            defer { Task { [budgets] in await budgets?.release(hold) } }
            do {
                let answer = try await dify.sendMessage(try await Self.withFiles(request, options), to: target)
                let answered = ContinuousClock.now
                try await store.recordAnswer(answer, for: pending, caller: caller)
                let ending = TurnEnding.completed(
                    TurnIDs(conversationID: answer.conversationID, messageID: answer.messageID, taskID: answer.taskID),
                    answer: answer.answer, metadata: answer.metadata ?? .object([:]), stopped: false)
                await options.whenEnded?(ending, [])
                turn.log.append(.ended(ending))
                metrics.chat(system: caller.systemID, mode: .blocking, outcome: .completed)
                metrics.gatewayOverhead((ContinuousClock.now - received) - (answered - started))
                if let usage = DifyUsage(metadata: answer.metadata) { metrics.usage(system: caller.systemID, usage) }
                logger.info(
                    "chat answered",
                    metadata: [
                        "system_id": .string(caller.systemID), "conversation_id": .string(answer.conversationID),
                        "duration_ms": .stringConvertible((ContinuousClock.now - started).milliseconds),
                    ])
                return (answer, pending.turnID)
            } catch let error as DifyError {
                metrics.chat(system: caller.systemID, mode: .blocking, outcome: .failed)
                try await store.recordFailure(error, for: pending, caller: caller)
                await options.whenEnded?(.failed(error, ids: nil), [])
                turn.log.append(.ended(.failed(error, ids: nil)))
                logger.warning(
                    "chat failed upstream",
                    metadata: [
                        "system_id": .string(caller.systemID), "error": .string(error.summary),
                        "duration_ms": .stringConvertible((ContinuousClock.now - started).milliseconds),
                    ])
                throw error
            }
        }
    }

    private static func withFiles(_ request: DifyChatRequest, _ options: TurnOptions) async throws -> DifyChatRequest {
        guard let files = options.files else { return request }
        var request = request
        request.extra["files"] = .array(try await files())
        return request
    }

    /// Returns the conversation id to send (nil for a new conversation).
    private func validate(
        message: String, conversationID: String?, inputs: [String: JSONValue]
    ) throws(ChatError) -> String? {
        guard !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .emptyMessage }
        guard message.count <= limits.maxMessageCharacters else {
            throw .messageTooLong(length: message.count, limit: limits.maxMessageCharacters)
        }
        guard JSONValue.object(inputs).depth <= limits.maxInputsDepth else {
            throw .inputsTooDeep(limit: limits.maxInputsDepth)
        }
        guard let conversationID, !conversationID.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        // Dify's conversation ids are UUIDs; anything else would only come back as an upstream 400.
        guard let canonical = CanonicalID.uuid(conversationID) else { throw .invalidConversationID }
        return canonical
    }
}
