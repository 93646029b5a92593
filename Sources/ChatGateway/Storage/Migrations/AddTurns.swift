import Fluent
import SQLKit

/// Turns: the user's message row carries its turn's state, the process running it, how it ended and its
/// `Idempotency-Key` (hashed, unique); the answer's row (it has the task id) carries `stop_requested`, a stop
/// received by a replica other than the one running the turn; `gateway_turn_events` holds a running turn's events,
/// so another replica can follow it and a crash loses none of what arrived: a row per turn and flush, `seq` its last
/// event's id and `events` a JSON array of `[id, event]`.
struct AddTurns: AsyncMigration {
    func prepare(on database: any Database) async throws {
        // SQLite adds one column per statement.
        for (column, type) in Self.columns {
            try await database.schema(StoredMessage.schema).field(.string(column), type).update()
        }
        let sql = database as! any SQLDatabase
        try await sql.create(index: "gateway_messages_idempotency_key").unique().on(StoredMessage.schema)
            .column("idempotency_key").run()
        // Only the turns being answered: the index stays as small as they are few.
        try await sql.raw(
            "CREATE INDEX gateway_messages_turn_holder ON \(ident: StoredMessage.schema) (turn_holder) WHERE turn_holder IS NOT NULL"
        ).run()
        try await sql.create(table: TurnEventStore.schema)
            .column("turn_id", type: .text, .notNull)
            .column("seq", type: .bigint, .notNull)
            .column("events", type: .text, .notNull)
            .primaryKey("turn_id", "seq")
            .run()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await sql.drop(table: TurnEventStore.schema).run()
        try await sql.drop(index: "gateway_messages_turn_holder").run()
        try await sql.drop(index: "gateway_messages_idempotency_key").run()
        for (column, _) in Self.columns.reversed() {
            try await database.schema(StoredMessage.schema).deleteField(.string(column)).update()
        }
    }

    private static let columns: [(String, DatabaseSchema.DataType)] = [
        ("turn_status", .string), ("turn_holder", .string), ("turn_result", .string), ("last_event_id", .int64),
        ("idempotency_key", .string), ("request_hash", .string), ("stop_requested", .bool),
    ]
}
