import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Sends one message to Dify (blocking) and records both sides of the turn.
/// The user's message is stored before the upstream call and survives any upstream failure.
struct ChatService: Sendable {
    let dify: any DifyClient
    let targets: DifyTargetResolver
    let store: ConversationStore
    let limits: ChatLimits
    let logger: Logger

    struct ChatLimits: Sendable {
        var maxMessageCharacters: Int
        var maxInputsDepth = 8
    }

    /// What every chat does before Dify is called: validate, find the system's Dify, check the conversation
    /// is the caller's, and store the user's message.
    private func prepare(_ message: String, conversationID rawConversationID: String?, inputs: [String: JSONValue], as caller: CallerIdentity)
        async throws -> (DifyChatRequest, DifyTarget, MessageRecord)
    {
        let conversationID = try validate(message: message, conversationID: rawConversationID, inputs: inputs)
        let target = try targets.target(forSystem: caller.systemID)
        if let conversationID { try caller.requireOwnership(try await store.owner(ofConversation: conversationID)) }
        let pending = try await store.recordPendingUserMessage(caller, conversationID: conversationID, content: message)
        return (DifyChatRequest(query: message, user: caller.difyUser, conversationID: conversationID, inputs: inputs), target, pending)
    }

    /// Starts a streaming answer. Dify's answer head is awaited for up to `grace`: a refusal in that time
    /// (Dify down, 404, 429, bad input) is an honest HTTP error, recorded. A Dify slower than that gets the
    /// client's stream started anyway, with keep-alives, and a later refusal arrives as an `error` event.
    /// Either way the answer is stored however the client behaves. The stream is relayed on `eventLoop`,
    /// the loop of the client's connection.
    func stream(
        _ message: String, conversationID: String?, inputs: [String: JSONValue], as caller: CallerIdentity,
        registry: ChatStreamRegistry, grace: Duration, on eventLoop: any EventLoop
    ) async throws -> ChatStreamSession {
        let (request, target, pending) = try await prepare(message, conversationID: conversationID, inputs: inputs, as: caller)
        let session = ChatStreamSession(caller: caller, eventLoop: eventLoop)
        let relay = ChatStreamRelay(session: session, pending: pending, store: store, registry: registry, logger: logger)
        switch await Self.open(within: grace, on: eventLoop, relay: relay, { [dify] in
            try await dify.openStream(request, to: target, on: eventLoop, into: relay)
        }) {
        case .opened, .stillWaiting:
            await registry.launch { await relay.finished() }
        case .refused(let error):
            relay.abandon()
            try await store.recordFailure(error.summary, for: pending)
            logger.warning("chat stream refused upstream", metadata: ["system_id": .string(caller.systemID), "error": .string(error.summary)])
            throw error
        }
        return session
    }

    private enum Opening: Sendable {
        case opened
        case refused(DifyError)
        case stillWaiting
    }

    /// Whichever comes first: Dify's answer head (or refusal), or the end of `grace`. A refusal after `grace` goes to
    /// the relay, whose client already has its stream. The opening runs in a task of its own, which reports straight
    /// to the waiting handler (each task in between was one more hand-off between threads before the first token);
    /// the grace timer is one on the event loop.
    private static func open(
        within grace: Duration, on eventLoop: any EventLoop, relay: ChatStreamRelay, _ opening: @escaping @Sendable () async throws -> Void
    ) async -> Opening {
        let once = ResumeOnce<Opening>()
        return await withCheckedContinuation { continuation in
            once.arm(continuation)
            let timer = eventLoop.scheduleTask(in: .init(grace)) { _ = once.resume(.stillWaiting) }
            Task {
                do {
                    try await opening()
                    _ = once.resume(.opened)
                } catch {
                    let error = error as? DifyError ?? .unreachable(String(describing: error))
                    if !once.resume(.refused(error)) { relay.openingFailed(error) }
                }
                timer.cancel()
            }
        }
    }

    func send(_ message: String, conversationID rawConversationID: String?, inputs: [String: JSONValue], as caller: CallerIdentity) async throws -> DifyChatAnswer {
        let (request, target, pending) = try await prepare(message, conversationID: rawConversationID, inputs: inputs, as: caller)
        let started = ContinuousClock.now
        do {
            let answer = try await dify.sendMessage(request, to: target)
            try await store.recordAnswer(answer, for: pending, caller: caller)
            logger.info("chat answered", metadata: [
                "system_id": .string(caller.systemID), "conversation_id": .string(answer.conversationID),
                "duration_ms": .stringConvertible((ContinuousClock.now - started).milliseconds),
            ])
            return answer
        } catch let error as DifyError {
            try await store.recordFailure(error.summary, for: pending)
            logger.warning("chat failed upstream", metadata: [
                "system_id": .string(caller.systemID), "error": .string(error.summary),
                "duration_ms": .stringConvertible((ContinuousClock.now - started).milliseconds),
            ])
            throw error
        }
    }

    /// Returns the conversation id to send (nil for a new conversation).
    private func validate(message: String, conversationID: String?, inputs: [String: JSONValue]) throws(ChatError) -> String? {
        guard !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .emptyMessage }
        guard message.count <= limits.maxMessageCharacters else {
            throw .messageTooLong(length: message.count, limit: limits.maxMessageCharacters)
        }
        guard JSONValue.object(inputs).depth <= limits.maxInputsDepth else { throw .inputsTooDeep(limit: limits.maxInputsDepth) }
        let trimmed = conversationID?.trimmingCharacters(in: .whitespaces) ?? ""
        if trimmed.isEmpty { return nil }
        // Dify's conversation ids are UUIDs; anything else would only come back as an upstream 400.
        guard UUID(uuidString: trimmed) != nil else { throw .invalidConversationID }
        return trimmed.lowercased()
    }
}

extension Duration {
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}

/// A continuation that the first of several racers resumes; later resumes are ignored.
private final class ResumeOnce<Value: Sendable>: Sendable {
    private let state = NIOLockedValueBox<(continuation: CheckedContinuation<Value, Never>?, pending: Value?, decided: Bool)>((nil, nil, false))

    func arm(_ continuation: CheckedContinuation<Value, Never>) {
        let early: Value? = state.withLockedValue { state in
            if let value = state.pending { state.pending = nil; return value }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    /// True when `value` is the one delivered: the first to arrive.
    func resume(_ value: Value) -> Bool {
        let (won, continuation) = state.withLockedValue { state -> (Bool, CheckedContinuation<Value, Never>?) in
            guard !state.decided else { return (false, nil) }
            state.decided = true
            guard let continuation = state.continuation else {
                state.pending = value
                return (true, nil)
            }
            state.continuation = nil
            return (true, continuation)
        }
        continuation?.resume(returning: value)
        return won
    }
}
