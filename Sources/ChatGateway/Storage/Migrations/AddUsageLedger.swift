import Fluent
import SQLKit

/// The usage ledger: Dify's `usage` of each answer on its assistant row; the indexes the usage report reads (by
/// role and time) and the budgets read (a system's or a user's answers since a day or month began), so neither
/// scans the table; and a system's `budget` (JSON) in the admin API's table.
struct AddUsageLedger: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite's ALTER TABLE adds one at a time. `total_price` is the text Dify sent,
        // `total_price_scaled` the same × 10¹², for exact sums.
        for (column, type) in Self.columns {
            try await database.schema(StoredMessage.schema).field(FieldKey(stringLiteral: column), type).update()
        }
        let sql = database as! any SQLDatabase
        try await sql.create(index: "gateway_messages_role_created")
            .on(StoredMessage.schema).column("role").column("created_at").run()
        try await sql.create(index: "gateway_messages_system_role_created")
            .on(StoredMessage.schema).column("system_id").column("role").column("created_at").run()
        try await sql.create(index: "gateway_messages_user_role_created")
            .on(StoredMessage.schema).column("system_id").column("user_id").column("role").column("created_at").run()
        try await database.schema(AdminStore.systemsTable).field("budget", .string).update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(AdminStore.systemsTable).deleteField("budget").update()
        let sql = database as! any SQLDatabase
        for index in [
            "gateway_messages_role_created", "gateway_messages_system_role_created",
            "gateway_messages_user_role_created",
        ] {
            try await sql.drop(index: index).run()
        }
        for (column, _) in Self.columns {
            try await database.schema(StoredMessage.schema).deleteField(FieldKey(stringLiteral: column)).update()
        }
    }

    static let columns: [(String, DatabaseSchema.DataType)] = [
        ("prompt_tokens", .int64), ("completion_tokens", .int64), ("total_tokens", .int64), ("total_price", .string),
        ("total_price_scaled", .int64), ("currency", .string), ("latency_ms", .int64),
    ]
}
