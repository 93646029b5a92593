import Fluent
import FluentPostgresDriver
import Vapor

/// Applies pending migrations. On PostgreSQL several replicas may start at the same moment: each takes a
/// session advisory lock on a connection of its own first, so one migrates and the others find nothing to do.
/// (SQLite serves one machine; its own file lock serialises the schema changes.)
struct MigrationRunner: Sendable {
    let database: Settings.Database

    /// An arbitrary constant shared by every replica: "chat-gateway migrations".
    static let lockKey: Int64 = 0x6367_6D69_6772_6174

    func run(on app: Application) async throws {
        guard case .postgres(let url) = database else {
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
}
