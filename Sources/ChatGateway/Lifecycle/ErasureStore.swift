import Foundation
import SQLKit

/// `gateway_erasures`: one row per erasure, its receipt as JSON. Writes go through the conversation store's
/// writer, so on SQLite they queue with the chats' instead of failing on the one write lock.
struct ErasureStore: Sendable {
    static let table = "gateway_erasures"

    let store: ConversationStore
    let database: @Sendable () -> any SQLDatabase

    /// An erasure that is running: whom it erases (until it ends, to resume it after a crash) and when it last moved.
    struct Running: Sendable {
        var receipt: ErasureReceipt
        var userID: String?
        var updatedAt: Date
    }

    /// Records a new erasure, or finds the one already running for the same person (`created` false).
    func start(
        _ receipt: ErasureReceipt, userID: String, at stamp: Date
    ) async throws -> (ErasureReceipt, created: Bool) {
        let text = try Self.text(receipt)
        let inserted = try await store.write("start erasure") { sql in
            try await sql.insert(into: Self.table)
                .columns("id", "system_id", "subject", "user_id", "status", "started_at", "updated_at", "receipt")
                .values(
                    SQLBind(receipt.id), SQLBind(receipt.systemID), SQLBind(receipt.subject), SQLBind(userID),
                    SQLBind(receipt.status.rawValue), SQLBind(stamp.timeIntervalSince1970),
                    SQLBind(stamp.timeIntervalSince1970), SQLBind(text)
                )
                .ignoringConflicts().returning("id").all().count == 1
        }
        if inserted { return (receipt, true) }
        let row = try await database().select().column("receipt").from(Self.table)
            .where("system_id", .equal, SQLBind(receipt.systemID)).where("subject", .equal, SQLBind(receipt.subject))
            .where("status", .equal, SQLBind(ErasureReceipt.Status.running.rawValue)).first()
        guard let row else { return try await start(receipt, userID: userID, at: stamp) }
        return (try Self.receipt(row), false)
    }

    /// Saves the receipt's progress; an erasure that ended (or `forgettingUser`) forgets whom it erased.
    func save(_ receipt: ErasureReceipt, at stamp: Date, forgettingUser: Bool = false) async throws {
        let text = try Self.text(receipt)
        try await store.write("record erasure") { sql in
            var update = sql.update(Self.table).set("status", to: SQLBind(receipt.status.rawValue))
                .set("receipt", to: SQLBind(text)).set("updated_at", to: SQLBind(stamp.timeIntervalSince1970))
            if forgettingUser || receipt.status != .running { update = update.set("user_id", to: SQLLiteral.null) }
            try await update.where("id", .equal, SQLBind(receipt.id)).run()
        }
    }

    func receipt(id: String) async throws -> ErasureReceipt? {
        try await database().select().column("receipt").from(Self.table).where("id", .equal, SQLBind(id)).first()
            .map(Self.receipt)
    }

    /// Newest first.
    func list(systemID: String?, limit: Int) async throws -> [ErasureReceipt] {
        var query = database().select().column("receipt").from(Self.table)
        if let systemID { query = query.where("system_id", .equal, SQLBind(systemID)) }
        return try await query.orderBy("started_at", .descending).limit(limit).all().map(Self.receipt)
    }

    func running() async throws -> [Running] {
        try await database().select().columns("receipt", "user_id", "updated_at").from(Self.table)
            .where("status", .equal, SQLBind(ErasureReceipt.Status.running.rawValue)).all()
            .map { row in
                Running(
                    receipt: try Self.receipt(row), userID: try row.decode(column: "user_id", as: String?.self),
                    updatedAt: Date(timeIntervalSince1970: try row.decode(column: "updated_at", as: Double.self)))
            }
    }

    private static func text(_ receipt: ErasureReceipt) throws -> String {
        String(decoding: try JSONEncoder().encode(receipt), as: UTF8.self)
    }

    private static func receipt(_ row: any SQLRow) throws -> ErasureReceipt {
        try JSONDecoder().decode(
            ErasureReceipt.self, from: Data(try row.decode(column: "receipt", as: String.self).utf8))
    }
}
