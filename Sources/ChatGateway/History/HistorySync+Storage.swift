import Fluent
import Foundation
import SQLKit

/// What the gateway already holds for one user, read once per user and sync run.
struct LocalConversations: Sendable {
    struct Known: Sendable {
        let conversationID: String
        let difyUpdatedAt: Date?
        let syncedAt: Date?
        let deletedAt: Date?

        /// Synced before, still alive, and Dify reports the same `updated_at`: nothing to fetch.
        func isCurrent(difyUpdatedAt remote: Date?) -> Bool {
            guard syncedAt != nil, deletedAt == nil, let remote, let difyUpdatedAt else { return false }
            return Int(remote.timeIntervalSince1970) == Int(difyUpdatedAt.timeIntervalSince1970)
        }
    }

    let byID: [String: Known]

    static func load(for user: HistorySync.KnownUser, on database: any Database) async throws -> LocalConversations {
        let rows = try await StoredConversation.query(on: database)
            .filter(\.$systemID == user.systemID).filter(\.$userID == user.userID).all()
        return LocalConversations(
            byID: Dictionary(
                rows.map {
                    (
                        $0.conversationID,
                        Known(
                            conversationID: $0.conversationID, difyUpdatedAt: $0.difyUpdatedAt, syncedAt: $0.syncedAt,
                            deletedAt: $0.deletedAt)
                    )
                }, uniquingKeysWith: { first, _ in first }))
    }

    /// message_id → content of the conversation's stored messages.
    static func messageContents(of conversationID: String, on database: any Database) async throws -> [String: String] {
        let rows = try await (database as! any SQLDatabase).select()
            .columns("message_id", "content").from(StoredMessage.schema)
            .where("conversation_id", .equal, SQLBind(conversationID)).all()
        var contents: [String: String] = [:]
        for row in rows {
            contents[try row.decode(column: "message_id", as: String.self)] = try row.decode(
                column: "content", as: String.self)
        }
        return contents
    }

    static func markDeleted(_ conversationIDs: [String], at stamp: Date, on database: any Database) async throws {
        for chunk in stride(from: 0, to: conversationIDs.count, by: 500).map({
            Array(conversationIDs[$0..<min($0 + 500, conversationIDs.count)])
        }) {
            try await (database as! any SQLDatabase).update(StoredConversation.schema)
                .set("deleted_at", to: SQLBind(stamp)).set("updated_at", to: SQLBind(stamp))
                .where("conversation_id", .in, SQLBind.group(chunk)).run()
        }
    }
}

extension HistorySync {
    /// Writes one synced conversation in one transaction. Messages: Dify's text wins over what the gateway stored
    /// (a stream cut short, for instance). The conversation: new ones are mapped to their owner; known ones take
    /// Dify's name and `updated_at`, and come back to life if they had been marked deleted.
    /// Nothing is written (false) while the user has a turn in it, or in a new conversation, that Dify answered and
    /// the gateway has not recorded yet: the sync would store and count that turn first, and the turn's own write
    /// then fail on its message id. The next sync writes the conversation.
    @discardableResult
    static func store(
        _ conversation: ConversationWrite, messages: [MessageWrite],
        usage: [UsageRollup.Key: UsageRollup.Counters] = [:], on database: any Database
    ) async throws -> Bool {
        do {
            try await database.transaction { transaction in
                let sql = transaction as! any SQLDatabase
                // The conversation first, then its messages, as a chat's turn writes them: a sync and a chat
                // finishing in the same conversation lock the rows in one order and never wait on each other in a
                // cycle. (A write first also holds SQLite's lock before the read below.)
                try await sql.upsert(
                    [conversation], into: StoredConversation.schema, onConflict: ["conversation_id"],
                    update: ["name", "dify_updated_at", "synced_at", "deleted_at", "updated_at"])
                if try await hasUnrecordedTurn(conversation, on: sql) { throw TurnNotRecordedYet() }
                try await sql.upsert(
                    messages, into: StoredMessage.schema, onConflict: ["message_id"],
                    update: ["conversation_id", "content", "status", "position", "updated_at"])
                try await UsageRollup.add(usage, on: sql)
            }
            return true
        } catch is TurnNotRecordedYet {
            return false
        }
    }

    private struct TurnNotRecordedYet: Error {}

    /// A turn of the conversation's user, in it or in a conversation not named yet, still under its placeholder id.
    private static func hasUnrecordedTurn(
        _ conversation: ConversationWrite, on sql: any SQLDatabase
    ) async throws
        -> Bool
    {
        try await sql.select().column("id").from(StoredMessage.schema)
            .where("system_id", .equal, SQLBind(conversation.systemID))
            .where("user_id", .equal, SQLBind(conversation.userID))
            .where("turn_holder", .isNot, SQLLiteral.null)
            .where("message_id", .like, SQLBind(ConversationStore.localMessagePrefix + "%"))
            .where {
                $0.where("conversation_id", .is, SQLLiteral.null)
                    .orWhere("conversation_id", .equal, SQLBind(conversation.conversationID))
            }
            .limit(1).first() != nil
    }

    static func conversationWrite(
        _ conversation: DifyConversation, user: KnownUser, updatedAt: Date?, at stamp: Date
    ) -> ConversationWrite {
        let created = conversation.createdAt.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? stamp
        return ConversationWrite(
            conversationID: conversation.id, systemID: user.systemID, userID: user.userID, difyUser: user.difyUser,
            name: conversation.name, createdAt: created, updatedAt: stamp, difyUpdatedAt: updatedAt, syncedAt: stamp)
    }

    static func messageWrite(
        id: String, conversationID: String, user: KnownUser, role: String, content: String, position: Int,
        createdAt: Date, at stamp: Date
    ) -> MessageWrite {
        MessageWrite(
            messageID: id, conversationID: conversationID, systemID: user.systemID, userID: user.userID, role: role,
            content: content, status: .complete, position: position, createdAt: createdAt, updatedAt: stamp)
    }
}
