import Fluent
import SQLKit

/// `gateway_rate_buckets`: the rate limits' token buckets shared by replicas on PostgreSQL (`SharedRateLimiter`).
/// Created on SQLite too, where it stays empty: one replica keeps its buckets in memory.
struct CreateRateBuckets: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).create(table: SharedRateLimiter.table)
            .column("bucket", type: .text, .primaryKey(autoIncrement: false))
            .column("tokens", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
            .column("updated_at", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
            .column("period", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
            .run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).drop(table: SharedRateLimiter.table).run()
    }
}
