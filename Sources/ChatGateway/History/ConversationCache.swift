import Fluent
import Foundation
import SQLKit

/// Reads the gateway's copy of every conversation (what chats wrote and the sync brought in), for operators.
struct ConversationCache: Sendable {
    let database: any Database

    private var sql: any SQLDatabase { database as! any SQLDatabase }

    struct ConversationRow: Sendable {
        let conversationID: String
        let systemID: String
        let userID: String
        let name: String?
        let createdAt: Date
        let updatedAt: Date
        let syncedAt: Date?
        let deletedAt: Date?
    }

    struct MessageRow: Sendable {
        let messageID: String
        let conversationID: String?
        let role: String
        let content: String
        let status: String
        let createdAt: Date
        /// An answer's sources, as the column keeps them (JSON text).
        var retrieverResources: String? = nil
        /// A question's files (JSON text).
        var files: String? = nil
        /// On a question asked again: the Dify message id of its first attempt.
        var regenerates: String? = nil
    }

    struct Page: Sendable {
        let items: [ConversationRow]
        let total: Int
        let next: CacheCursor?
    }

    /// Newest first; at most `limit` rows after `cursor`, with the filter's total and the next page's cursor.
    func conversations(
        _ filter: CacheFilter, limit: Int, after cursor: CacheCursor?, counting: Bool = true
    ) async throws -> Page {
        var select = filter.apply(
            to: sql.select()
                .columns(Self.conversationColumns.map { SQLColumn($0, table: "c") })
                .from(SQLAlias(SQLIdentifier(StoredConversation.schema), as: SQLIdentifier("c"))))
        if let cursor {
            // A half-microsecond of tolerance: SQLite keeps times as floating-point seconds, and the cursor's
            // time went through a decimal round trip.
            let (before, upTo) = (
                cursor.createdAt.addingTimeInterval(-0.0000005), cursor.createdAt.addingTimeInterval(0.0000005)
            )
            select = select.where(
                SQLQueryString(
                    "(c.created_at < \(bind: before) OR (c.created_at <= \(bind: upTo) AND c.conversation_id < \(bind: cursor.conversationID)))"
                ))
        }
        let rows =
            try await select
            .orderBy(SQLOrderBy(expression: SQLColumn("created_at", table: "c"), direction: SQLDirection.descending))
            .orderBy(
                SQLOrderBy(expression: SQLColumn("conversation_id", table: "c"), direction: SQLDirection.descending)
            )
            .limit(limit + 1)
            .all()
        let items = try rows.prefix(limit).map(Self.conversation)
        let next =
            rows.count > limit
            ? items.last.map { CacheCursor(createdAt: $0.createdAt, conversationID: $0.conversationID) } : nil
        let total = counting ? try await count(filter) : 0
        return Page(items: items, total: total, next: next)
    }

    func count(_ filter: CacheFilter) async throws -> Int {
        let row = try await filter.apply(
            to: sql.select()
                .column(SQLFunction("COUNT", args: SQLLiteral.all), as: "total")
                .from(SQLAlias(SQLIdentifier(StoredConversation.schema), as: SQLIdentifier("c")))
        )
        .first()
        return try row?.decode(column: "total", as: Int.self) ?? 0
    }

    func conversation(_ conversationID: String) async throws -> ConversationRow? {
        let row = try await sql.select()
            .columns(Self.conversationColumns.map { SQLColumn($0, table: "c") })
            .from(SQLAlias(SQLIdentifier(StoredConversation.schema), as: SQLIdentifier("c")))
            .where(SQLColumn("conversation_id", table: "c"), .equal, SQLBind(conversationID))
            .first()
        return try row.map(Self.conversation)
    }

    /// Oldest first.
    func messages(ofConversations conversationIDs: [String]) async throws -> [MessageRow] {
        guard !conversationIDs.isEmpty else { return [] }
        return try await sql.select()
            .columns(
                "message_id", "conversation_id", "role", "content", "status", "created_at", "retriever_resources",
                "files", "regenerates"
            )
            .from(StoredMessage.schema)
            .where("conversation_id", .in, SQLBind.group(conversationIDs))
            .orderBy("conversation_id").orderBy("created_at").orderBy("position").orderBy("role", .descending)
            .all()
            .map {
                MessageRow(
                    messageID: try $0.decode(column: "message_id", as: String.self),
                    conversationID: try $0.decode(column: "conversation_id", as: String?.self),
                    role: try $0.decode(column: "role", as: String.self),
                    content: try $0.decode(column: "content", as: String.self),
                    status: try $0.decode(column: "status", as: String.self),
                    createdAt: try $0.decode(column: "created_at", as: Date.self),
                    retrieverResources: try $0.decode(column: "retriever_resources", as: String?.self),
                    files: try $0.decode(column: "files", as: String?.self),
                    regenerates: try $0.decode(column: "regenerates", as: String?.self))
            }
    }

    private static let conversationColumns = [
        "conversation_id", "system_id", "user_id", "name", "created_at", "updated_at", "synced_at", "deleted_at",
    ]

    private static func conversation(_ row: any SQLRow) throws -> ConversationRow {
        ConversationRow(
            conversationID: try row.decode(column: "conversation_id", as: String.self),
            systemID: try row.decode(column: "system_id", as: String.self),
            userID: try row.decode(column: "user_id", as: String.self),
            name: try row.decode(column: "name", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Date.self),
            updatedAt: try row.decode(column: "updated_at", as: Date.self),
            syncedAt: try row.decode(column: "synced_at", as: Date?.self),
            deletedAt: try row.decode(column: "deleted_at", as: Date?.self))
    }
}
