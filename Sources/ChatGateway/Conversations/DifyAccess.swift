import Foundation

/// What every Dify-facing controller needs: who is asking, which Dify serves them, and the gateway's store.
struct DifyAccess: Sendable {
    let auth: GatewayAuthenticator
    let dify: any DifyClient
    let targets: DifyTargetResolver
    let store: ConversationStore

    func target(for caller: CallerIdentity) throws -> DifyTarget {
        try targets.target(forSystem: caller.systemID)
    }

    /// The conversation id in its canonical form, once it is known not to be someone else's (`requireOwnership`).
    func conversation(_ rawID: String, of caller: CallerIdentity, recordedOnly: Bool = false) async throws -> String {
        // Dify's ids are UUIDs; anything else cannot name a conversation, and Dify would only answer 400.
        guard let conversationID = CanonicalID.uuid(rawID) else { throw ChatError.conversationNotFound }
        try caller.requireOwnership(try await store.owner(ofConversation: conversationID), recordedOnly: recordedOnly)
        return conversationID
    }

    /// The same for a message: Dify's id, or the history API's `<id>_assistant` / `<id>_user`.
    func message(_ rawID: String, of caller: CallerIdentity, recordedOnly: Bool = false) async throws -> String {
        guard let messageID = CanonicalID.uuid(MessageControlsController.difyMessageID(rawID)) else {
            throw ChatError.messageNotFound
        }
        try caller.requireOwnership(
            try await store.owner(ofMessage: messageID), notFound: .messageNotFound, recordedOnly: recordedOnly)
        return messageID
    }

    /// Deletes in Dify and in the gateway's tables (the seed left stale rows behind).
    func deleteConversation(_ conversationID: String, of caller: CallerIdentity) async throws {
        try await dify.deleteConversation(conversationID, user: caller.difyUser, at: try target(for: caller))
        try await store.deleteConversation(conversationID, of: caller)
    }
}
