import Foundation
import SQLKit

/// What `ChatAdmission` spends a request from: this replica's memory (`RateLimiter`), or on PostgreSQL the
/// database, which every replica shares (`SharedRateLimiter`).
protocol ChatRateLimiter: Sendable {
    func acquire(_ key: String) async throws -> RateLimiter.Decision
}

extension RateLimiter: ChatRateLimiter {}

/// Token buckets in `gateway_rate_buckets`, for replicas on one PostgreSQL: the same rule as `RateLimiter`, each
/// request spent by one atomic upsert, so N replicas together allow the limit once, not N times.
struct SharedRateLimiter: ChatRateLimiter {
    static let table = "gateway_rate_buckets"

    let limit: RateLimit
    /// Tells buckets of different limits apart (`user`, `key`, a system's own limit).
    let scope: String
    let database: @Sendable () -> any SQLDatabase
    let now: @Sendable () -> Date

    func acquire(_ key: String) async throws -> RateLimiter.Decision {
        let sql = database()
        let bucket = "\(scope)|\(limit.count)/\(limit.period)|\(key)"
        let at = now().timeIntervalSince1970
        let capacity = Double(limit.count)
        let rate = limit.refillRate
        // The bucket refilled since it was last used, less this request; no row comes back when it is empty.
        let spent = try await sql.raw(
            """
            INSERT INTO \(ident: Self.table) AS b (bucket, tokens, updated_at, period) \
            VALUES (\(bind: bucket), \(bind: capacity - 1), \(bind: at), \(bind: limit.period)) \
            ON CONFLICT (bucket) DO UPDATE SET \
            tokens = LEAST(\(bind: capacity), b.tokens + GREATEST(\(bind: at) - b.updated_at, 0) * \(bind: rate)) - 1, \
            updated_at = \(bind: at) \
            WHERE LEAST(\(bind: capacity), b.tokens + GREATEST(\(bind: at) - b.updated_at, 0) * \(bind: rate)) >= 1 \
            RETURNING tokens
            """
        ).first()
        // Housekeeping: its failure must not fail a request that was already counted.
        if Int.random(in: 0..<100) == 0 { try? await sweep(at: at, on: sql) }
        if spent != nil { return .allowed }
        let row = try await sql.select().columns("tokens", "updated_at").from(Self.table)
            .where("bucket", .equal, SQLBind(bucket)).first()
        let tokens =
            try row.map { row in
                min(
                    capacity,
                    try row.decode(column: "tokens", as: Double.self)
                        + max(0, at - (try row.decode(column: "updated_at", as: Double.self))) * rate)
            } ?? 0
        return .limited(retryAfter: max(1, Int(((1 - tokens) / rate).rounded(.up))))
    }

    /// Buckets idle for a whole period are full again, no different from none: removed now and then.
    private func sweep(at now: Double, on sql: any SQLDatabase) async throws {
        try await sql.raw("DELETE FROM \(ident: Self.table) WHERE updated_at < \(bind: now) - period").run()
    }
}
