import Fluent
import SQLKit

/// The usage ledger: Dify's `usage` of each answer on its assistant row, and the index the usage report reads
/// (by role and time) instead of scanning the table.
struct AddMessageUsage: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // One column per statement: SQLite's ALTER TABLE adds one at a time. `total_price` is the text Dify sent,
        // `total_price_scaled` the same × 10¹², for exact sums.
        for (column, type) in Self.columns {
            try await database.schema(StoredMessage.schema).field(FieldKey(stringLiteral: column), type).update()
        }
        try await (database as! any SQLDatabase).create(index: "gateway_messages_role_created")
            .on(StoredMessage.schema).column("role").column("created_at").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).drop(index: "gateway_messages_role_created").run()
        for (column, _) in Self.columns {
            try await database.schema(StoredMessage.schema).deleteField(FieldKey(stringLiteral: column)).update()
        }
    }

    static let columns: [(String, DatabaseSchema.DataType)] = [
        ("prompt_tokens", .int64), ("completion_tokens", .int64), ("total_tokens", .int64), ("total_price", .string),
        ("total_price_scaled", .int64), ("currency", .string), ("latency_ms", .int64),
    ]
}
