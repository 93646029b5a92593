import Fluent
import Foundation
import SQLKit

/// The signed-in history-page sessions, one row each, shared by every replica: signing out deletes the row, so
/// every copy of that cookie stops working at once.
struct OperatorSessionStore: Sendable {
    static let schema = "gateway_operator_sessions"

    struct Session: Sendable, Equatable {
        var keyFingerprint: String
        var expiresAt: Date
    }

    let database: @Sendable () -> any Database

    /// Stores a new session; sessions already expired go at the same time, so the table holds live ones only.
    func create(id: String, keyFingerprint: String, createdAt: Date, expiresAt: Date) async throws {
        let sql = database() as! any SQLDatabase
        try await sql.delete(from: Self.schema).where("expires_at", .lessThan, SQLBind(createdAt)).run()
        try await sql.insert(into: Self.schema)
            .columns("session_id", "key_fingerprint", "created_at", "expires_at")
            .values(SQLBind(id), SQLBind(keyFingerprint), SQLBind(createdAt), SQLBind(expiresAt))
            .run()
    }

    func session(id: String) async throws -> Session? {
        let sql = database() as! any SQLDatabase
        guard
            let row = try await sql.select().columns("key_fingerprint", "expires_at").from(Self.schema)
                .where("session_id", .equal, SQLBind(id)).first()
        else { return nil }
        return Session(
            keyFingerprint: try row.decode(column: "key_fingerprint", as: String.self),
            expiresAt: try row.decode(column: "expires_at", as: Date.self))
    }

    func delete(id: String) async throws {
        try await (database() as! any SQLDatabase).delete(from: Self.schema)
            .where("session_id", .equal, SQLBind(id)).run()
    }
}
