import Fluent
import FluentPostgresDriver
import SQLKit
import Vapor

/// Prepares the database before a command uses it: SQLite's journal settings, then pending migrations. Nothing
/// opens the database before this runs, so asking for help or a failed check touches no file. On PostgreSQL several replicas may start at the same moment: each takes a
/// session advisory lock on a connection of its own first, so one migrates and the others find nothing to do.
/// (SQLite serves one machine; its own file lock serialises the schema changes.)
struct MigrationRunner: Sendable {
    let database: Settings.Database

    /// An arbitrary constant shared by every replica: "chat-gateway migrations".
    static let lockKey: Int64 = 0x6367_6D69_6772_6174

    func run(on app: Application) async throws {
        guard case .postgres(let url) = database else {
            try await Self.tuneSQLite(app)
            try await app.autoMigrate()
            return
        }
        let connection = try await PostgresConnection.connect(
            on: app.eventLoopGroup.any(), configuration: try SQLPostgresConfiguration(url: url).coreConfiguration,
            id: 0, logger: app.logger
        ).get()
        do {
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: app.logger)
            try await app.autoMigrate()
            try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: app.logger)
            try await connection.close()
        } catch {
            try? await connection.close()  // closing the session releases the lock too
            throw error
        }
    }

    /// WAL lets readers (operators' scripts, backups) proceed while the gateway writes; set once, it persists in
    /// the file. `synchronous=NORMAL` is durable in WAL mode except on power loss, and saves an fsync per commit.
    /// `secure_delete` zeroes what a delete or an update frees, so erased text is not left in free space.
    /// `busy_timeout` replaces SQLiteNIO's busy handler, which retries the lock without sleeping (a waiting writer
    /// took a whole core), with SQLite's own, which sleeps between tries; at Int32.max ms it still waits as long as it
    /// takes.
    private static func tuneSQLite(_ app: Application) async throws {
        try await (app.db as! any SQLDatabase).raw("PRAGMA journal_mode=WAL").run()
        for loop in app.eventLoopGroup.makeIterator() {
            let database = app.databases.database(logger: app.logger, on: loop) as! any SQLDatabase
            try await database.raw("PRAGMA synchronous=NORMAL").run()
            try await database.raw("PRAGMA secure_delete=ON").run()
            try await database.raw("PRAGMA busy_timeout=2147483647").run()
        }
    }
}
