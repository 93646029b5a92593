import Foundation
import Logging

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

    func send(_ message: String, conversationID rawConversationID: String?, inputs: [String: JSONValue], as caller: CallerIdentity) async throws -> DifyChatAnswer {
        let conversationID = try validate(message: message, conversationID: rawConversationID, inputs: inputs)
        let target = try targets.target(forSystem: caller.systemID)
        if let conversationID, let owner = try await store.owner(ofConversation: conversationID),
           owner != (caller.systemID, caller.userID) {
            // Another user's conversation: say "not found", never "forbidden", so ids can't be probed.
            throw ChatError.conversationNotFound
        }
        try await store.registerUser(caller)
        let pending = try await store.recordPendingUserMessage(caller, conversationID: conversationID, content: message)
        let started = ContinuousClock.now
        do {
            let answer = try await dify.sendMessage(
                DifyChatRequest(query: message, user: caller.difyUser, conversationID: conversationID, inputs: inputs), to: target)
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
