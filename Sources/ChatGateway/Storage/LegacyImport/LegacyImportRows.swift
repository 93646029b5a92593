import Foundation

/// The rows an import writes. Every shape only inserts (`ON CONFLICT DO NOTHING`): an import never changes what
/// the gateway already holds, so running it again, or after the gateway has taken over, adds only what is missing.
enum LegacyImportRows {
    static let user = RowUpsert.Shape(
        order: 0, table: ChatUser.schema, columns: ConversationStore.userColumns, conflict: ["system_id", "user_id"], update: [])
    static let conversation = RowUpsert.Shape(
        order: 1, table: StoredConversation.schema, columns: ConversationStore.conversationColumns + ["name", "synced_at"],
        conflict: ["conversation_id"], update: [])
    static let message = RowUpsert.Shape(
        order: 2, table: StoredMessage.schema, columns: ConversationStore.messageColumns, conflict: ["message_id"], update: [])

    static func user(_ user: LegacySyncUser, at stamp: Date) -> RowUpsert {
        let seen = user.updatedAt ?? stamp
        return RowUpsert(shape: Self.user, key: user.owner.key, values: [
            UUID.newRowID(), user.owner.systemID, user.owner.userID, user.owner.difyUser, seen, seen,
        ])
    }

    /// `dify_updated_at` stays empty, so the next sync reads every imported conversation from Dify in full
    /// (the seed's sync stopped at the first 20). `startedAt` stands in for a missing `created_at`.
    static func conversation(_ conversation: LegacyConversation, owner: LegacyOwner, startedAt: Date?, at stamp: Date) -> RowUpsert {
        let created = conversation.createdAt ?? startedAt ?? conversation.syncedAt ?? conversation.updatedAt ?? stamp
        return RowUpsert(shape: Self.conversation, key: conversation.conversationID, values: [
            UUID.newRowID(), conversation.conversationID, owner.systemID, owner.userID, owner.difyUser, created,
            conversation.updatedAt ?? conversation.syncedAt ?? created, conversation.name, conversation.syncedAt,
        ])
    }

    /// The seed cached only answered turns, so every message is `complete`.
    static func message(_ message: LegacyCachedMessage, conversationID: String, owner: LegacyOwner, at stamp: Date) -> RowUpsert {
        let created = message.createdAt ?? message.syncedAt ?? stamp
        return RowUpsert(shape: Self.message, key: message.messageID, values: [
            UUID.newRowID(), message.messageID, conversationID, owner.systemID, owner.userID, message.role, message.content,
            StoredMessage.Status.complete.rawValue, String?.none, String?.none, created, message.syncedAt ?? created,
        ])
    }
}
