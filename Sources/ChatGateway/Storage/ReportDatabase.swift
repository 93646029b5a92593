import Fluent
import SQLKit

/// Where usage reports and history exports read: on SQLite a connection pool of their own, each connection
/// `query_only`, so a long report never holds a connection that chats' writes wait for; on PostgreSQL the
/// gateway's own pool.
struct ReportDatabase: Sendable {
    static let sqliteID = DatabaseID(string: "sqlite-reports")

    let database: @Sendable () -> any Database
    let isSQLite: Bool

    /// Runs `body` on one connection, read-only on SQLite.
    func read<T: Sendable>(_ body: @escaping @Sendable (any Database) async throws -> T) async throws -> T {
        guard isSQLite else { return try await body(database()) }
        return try await database().withConnection { connection in
            try await (connection as! any SQLDatabase).raw("PRAGMA query_only = ON").run()
            return try await body(connection)
        }
    }
}
