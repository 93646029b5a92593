import Fluent
import SQLKit

/// Personal data's lifecycle: a conversation's legal hold (retention skips it; an erasure of its user is refused
/// while it stands); a system's retention (`retention_days`: nil, `RETENTION_DAYS`; 0, kept until deleted),
/// whether retention deletes in Dify too, and whether its chat page offers the user their own export; and
/// `gateway_erasures`, one row per erasure, naming the person by their pseudonym (their `user_id` is kept only while
/// it runs, to resume it after a crash). Indexes for retention's walk by age and for a person's or a conversation's
/// webhook events. Times are Unix seconds.
struct AddDataLifecycle: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let seconds = SQLDataType.custom(SQLRaw("DOUBLE PRECISION"))
        // SQLite adds one column per statement.
        for (column, type) in [("legal_hold_reason", SQLDataType.text), ("legal_hold_at", seconds)] {
            try await sql.alter(table: StoredConversation.schema).column(column, type: type).run()
        }
        for (column, type) in [
            ("retention_days", SQLDataType.bigint), ("retention_delete_in_dify", .custom(SQLRaw("BOOLEAN"))),
            ("self_export", .custom(SQLRaw("BOOLEAN"))),
        ] {
            try await sql.alter(table: AdminStore.systemsTable).column(column, type: type).run()
        }
        try await sql.create(table: ErasureStore.table)
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("system_id", type: .text, .notNull)
            .column("subject", type: .text, .notNull)
            .column("user_id", type: .text)
            .column("status", type: .text, .notNull)
            .column("started_at", type: seconds, .notNull)
            .column("updated_at", type: seconds, .notNull)
            .column("receipt", type: .text, .notNull)
            .run()
        // One erasure of a person at a time: a second request finds the first.
        try await sql.raw(
            "CREATE UNIQUE INDEX gateway_erasures_running ON \(ident: ErasureStore.table) (system_id, subject) WHERE status = 'running'"
        ).run()
        try await sql.create(index: "gateway_erasures_started").on(ErasureStore.table).column("started_at").run()
        // Retention walks conversations by their last activity.
        try await sql.create(index: "gateway_conversations_updated").on(StoredConversation.schema)
            .column("updated_at").run()
        try await sql.create(index: "gateway_messages_created").on(StoredMessage.schema).column("created_at").run()
        // Retention forgets the content of deleted conversations' events; an erasure deletes a person's events.
        try await sql.create(index: "gateway_webhook_events_conversation").on(WebhookTables.events)
            .column("conversation_id").run()
        try await sql.create(index: "gateway_webhook_events_owner").on(WebhookTables.events)
            .column("system_id").column("user_id").run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(index: "gateway_webhook_events_owner").run()
        try await sql.drop(index: "gateway_webhook_events_conversation").run()
        try await sql.drop(index: "gateway_messages_created").run()
        try await sql.drop(index: "gateway_conversations_updated").run()
        try await sql.drop(index: "gateway_erasures_running").run()
        try await sql.drop(table: ErasureStore.table).run()
        for column in ["self_export", "retention_delete_in_dify", "retention_days"] {
            try await sql.alter(table: AdminStore.systemsTable).dropColumn(column).run()
        }
        for column in ["legal_hold_at", "legal_hold_reason"] {
            try await sql.alter(table: StoredConversation.schema).dropColumn(column).run()
        }
    }
}
