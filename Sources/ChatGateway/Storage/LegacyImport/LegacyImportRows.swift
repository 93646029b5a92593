import Foundation
import SQLKit

/// The rows an import writes. Every write only inserts (`ON CONFLICT DO NOTHING`): an import never changes what
/// the gateway already holds, so running it again, or after the gateway has taken over, adds only what is missing.
enum LegacyImportRows {
    static func user(_ user: LegacySyncUser, at stamp: Date) -> UserWrite {
        let seen = user.updatedAt ?? stamp
        return UserWrite(
            systemID: user.owner.systemID, userID: user.owner.userID, difyUser: user.owner.difyUser, createdAt: seen,
            updatedAt: seen)
    }

    /// `dify_updated_at` stays empty, so the next sync reads every imported conversation from Dify in full
    /// (the seed's sync stopped at the first 20). `startedAt` stands in for a missing `created_at`.
    static func conversation(
        _ conversation: LegacyConversation, owner: LegacyOwner, startedAt: Date?, at stamp: Date
    ) -> ConversationWrite {
        let created = conversation.createdAt ?? startedAt ?? conversation.syncedAt ?? conversation.updatedAt ?? stamp
        return ConversationWrite(
            conversationID: conversation.conversationID, systemID: owner.systemID, userID: owner.userID,
            difyUser: owner.difyUser,
            name: conversation.name, createdAt: created,
            updatedAt: conversation.updatedAt ?? conversation.syncedAt ?? created,
            syncedAt: conversation.syncedAt)
    }

    /// The seed cached only answered turns, so every message is `complete`. Its row id keeps the turns' order.
    static func message(
        _ message: LegacyCachedMessage, conversationID: String, owner: LegacyOwner, at stamp: Date
    ) -> MessageWrite {
        let created = message.createdAt ?? message.syncedAt ?? stamp
        return MessageWrite(
            messageID: message.messageID, conversationID: conversationID, systemID: owner.systemID,
            userID: owner.userID,
            role: message.role, content: message.content, status: .complete, position: message.legacyID,
            createdAt: created, updatedAt: message.syncedAt ?? created)
    }
}

/// A page's rows bound for one of the gateway's tables, inserted unless already there.
struct LegacyRowInsert: Sendable {
    let count: Int
    private let insert: @Sendable (any SQLDatabase) async throws -> Void

    init<Row: Encodable & Sendable>(_ rows: [Row], into table: String, uniqueOn key: [String]) {
        count = rows.count
        insert = { sql in try await sql.upsert(rows, into: table, onConflict: key) }
    }

    static let none = LegacyRowInsert([UserWrite](), into: ChatUser.schema, uniqueOn: ["system_id", "user_id"])

    func run(on database: any SQLDatabase) async throws {
        guard count > 0 else { return }
        try await insert(database)
    }
}
