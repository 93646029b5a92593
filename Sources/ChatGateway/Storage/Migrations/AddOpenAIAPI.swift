import Fluent
import SQLKit

/// `/openai/v1`'s tables and columns: `gateway_openai_conversations` (a client conversation's Dify conversation, by
/// its key or its history), a turn's `turn_kind` (`task` for a client's auxiliary request), the ledger's `tasks`
/// counter (0 for what came before: no turn was a task), and a system's `openai_model` name.
struct AddOpenAIAPI: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.create(table: OpenAIConversations.table)
            .column("conversation_id", type: .text, .primaryKey(autoIncrement: false))
            .column("system_id", type: .text, .notNull)
            .column("user_id", type: .text, .notNull)
            .column("key_hash", type: .text)
            .column("history_hash", type: .text, .notNull)
            .column("updated_at", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
            .run()
        for column in ["key_hash", "history_hash"] {
            try await sql.create(index: "gateway_openai_conversations_\(column)").on(OpenAIConversations.table)
                .column("system_id").column("user_id").column(column).run()
        }
        try await database.schema(StoredMessage.schema).field("turn_kind", .string).update()
        for table in [UsageRollup.usersTable, UsageRollup.systemsTable] {
            try await sql.alter(table: table)
                .column("tasks", type: .bigint, .notNull, .default(SQLLiteral.numeric("0"))).run()
        }
        try await database.schema(AdminStore.systemsTable).field("openai_model", .string).update()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await database.schema(AdminStore.systemsTable).deleteField("openai_model").update()
        for table in [UsageRollup.usersTable, UsageRollup.systemsTable] {
            try await sql.alter(table: table).dropColumn("tasks").run()
        }
        try await database.schema(StoredMessage.schema).deleteField("turn_kind").update()
        try await sql.drop(table: OpenAIConversations.table).run()
    }
}
