import Fluent
import SQLKit

/// The usage ledger: Dify's `usage` of each answer on its assistant row; its sums per day (`UsageRollup`'s two
/// tables, filled from the messages already stored), which the usage report and the budgets read; and a system's
/// `budget` (JSON) in the admin API's table.
struct AddUsageLedger: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite's ALTER TABLE adds one at a time. `total_price` is the text Dify sent,
        // `total_price_scaled` the same × 10¹², for exact sums.
        for (column, type) in Self.columns {
            try await database.schema(StoredMessage.schema).field(FieldKey(stringLiteral: column), type).update()
        }
        let sql = database as! any SQLDatabase
        for (table, keys) in [
            (UsageRollup.usersTable, ["day", "system_id", "user_id", "currency"]),
            (UsageRollup.systemsTable, ["day", "system_id", "currency"]),
        ] {
            var create = sql.create(table: table)
            for key in keys { create = create.column(key, type: key == "day" ? .bigint : .text, .notNull) }
            for column in Self.counterColumns {
                create = create.column(column, type: .bigint, .notNull, .default(SQLLiteral.numeric("0")))
            }
            try await create.primaryKey(keys).run()
        }
        try await sql.create(index: "gateway_usage_users_user").on(UsageRollup.usersTable)
            .column("system_id").column("user_id").column("day").run()
        try await UsageRollup.rebuild(on: sql, counting: Self.counterColumns)
        try await database.schema(AdminStore.systemsTable).field("budget", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AdminStore.systemsTable).deleteField("budget").update()
        let sql = database as! any SQLDatabase
        try await sql.drop(table: UsageRollup.usersTable).run()
        try await sql.drop(table: UsageRollup.systemsTable).run()
        for (column, _) in Self.columns {
            try await database.schema(StoredMessage.schema).deleteField(FieldKey(stringLiteral: column)).update()
        }
    }

    /// The counters as this migration made them; later ones add theirs.
    static let counterColumns =
        [
            "chats", "completed", "failed", "refused", "unknown_usage", "prompt_tokens", "completion_tokens",
            "total_tokens", "price_scaled", "latency_count",
        ] + LatencyHistogram.bounds.indices.map { "latency_le_\($0)" }

    static let columns: [(String, DatabaseSchema.DataType)] = [
        ("prompt_tokens", .int64), ("completion_tokens", .int64), ("total_tokens", .int64), ("total_price", .string),
        ("total_price_scaled", .int64), ("currency", .string), ("latency_ms", .int64),
    ]
}
