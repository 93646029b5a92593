import Foundation
import SQLKit

/// The ledger summed per UTC day: `gateway_usage_users` per (day, system, user, currency) and
/// `gateway_usage_systems` per (day, system, currency), so the usage report and the budgets read a few rows
/// instead of every message. A chat's writes and the sync's new turns add to both in their own transaction; the
/// migration, the import and `recount-usage` recount everything. `currency` is `''` for what has no price.
enum UsageRollup {
    static let usersTable = "gateway_usage_users"
    static let systemsTable = "gateway_usage_systems"

    struct Key: Hashable, Sendable, Comparable {
        var day: Int
        var systemID: String
        var userID: String
        var currency: String

        var systemKey: Key { Key(day: day, systemID: systemID, userID: "", currency: currency) }

        static func < (lhs: Key, rhs: Key) -> Bool {
            (lhs.day, lhs.systemID, lhs.userID, lhs.currency) < (rhs.day, rhs.systemID, rhs.userID, rhs.currency)
        }
    }

    /// The summed columns, in table order; `latency_le_<i>` counts answers within `LatencyHistogram.bounds[i]`.
    static let counterColumns =
        [
            "chats", "completed", "failed", "refused", "tasks", "unknown_usage", "prompt_tokens",
            "completion_tokens", "total_tokens", "price_scaled", "latency_count",
        ] + LatencyHistogram.bounds.indices.map { "latency_le_\($0)" }

    struct Counters: Sendable, Equatable {
        var values = Array(repeating: Int64(0), count: UsageRollup.counterColumns.count)

        subscript(_ column: String) -> Int64 {
            get { values[UsageRollup.counterColumns.firstIndex(of: column)!] }
            set { values[UsageRollup.counterColumns.firstIndex(of: column)!] = newValue }
        }

        var isZero: Bool { values.allSatisfy { $0 == 0 } }

        static func + (lhs: Counters, rhs: Counters) -> Counters {
            Counters(values: zip(lhs.values, rhs.values).map(+))
        }

        /// One user message: a chat.
        static var userMessage: Counters {
            var counters = Counters()
            counters["chats"] = 1
            return counters
        }

        /// One answer's figures.
        static func answer(status: StoredMessage.Status, usage: DifyUsage?) -> Counters {
            var counters = Counters()
            switch status {
            case .complete:
                counters["completed"] = 1
                if usage == nil { counters["unknown_usage"] = 1 }
            case .failed: counters["failed"] = 1
            default: break
            }
            guard let usage else { return counters }
            counters["prompt_tokens"] = Int64(usage.promptTokens)
            counters["completion_tokens"] = Int64(usage.completionTokens)
            counters["total_tokens"] = Int64(usage.totalTokens)
            if let price = usage.totalPriceScaled, usage.currency != nil { counters["price_scaled"] = price }
            if status == .complete, let latency = usage.latencyMS {
                counters["latency_count"] = 1
                for (index, bound) in LatencyHistogram.bounds.enumerated() where Double(latency) <= bound {
                    counters["latency_le_\(index)"] = 1
                }
            }
            return counters
        }
    }

    static func day(of date: Date) -> Int { Int((date.timeIntervalSince1970 / 86_400).rounded(.down)) }

    /// The currency a row of the answer goes under.
    static func currency(of usage: DifyUsage?) -> String {
        guard let usage, usage.totalPriceScaled != nil, let currency = usage.currency else { return "" }
        return currency
    }

    // MARK: Writing

    /// Adds `deltas` to both tables.
    static func add(_ deltas: [Key: Counters], on sql: any SQLDatabase) async throws {
        var systems: [Key: Counters] = [:]
        for (key, counters) in deltas {
            systems[key.systemKey, default: Counters()] = systems[key.systemKey, default: Counters()] + counters
        }
        try await increment(
            deltas, table: usersTable, keyColumns: ["day", "system_id", "user_id", "currency"], on: sql)
        try await increment(systems, table: systemsTable, keyColumns: ["day", "system_id", "currency"], on: sql)
    }

    /// Moves a user's rows to another name (an erased user's pseudonym), adding to rows that name has already: the
    /// sums stay right and the user's id leaves the table. How many rows moved.
    static func rename(systemID: String, userID: String, to newID: String, on sql: any SQLDatabase) async throws -> Int
    {
        let rows = try await sql.select().columns(["day", "currency"] + counterColumns).from(usersTable)
            .owned(bySystem: systemID, user: userID).all()
        var moved: [Key: Counters] = [:]
        for row in rows {
            let key = Key(
                day: try row.decode(column: "day", as: Int.self), systemID: systemID, userID: newID,
                currency: try row.decode(column: "currency", as: String.self))
            moved[key] = Counters(values: try counterColumns.map { try row.decode(column: $0, as: Int64.self) })
        }
        try await sql.delete(from: usersTable).owned(bySystem: systemID, user: userID).run()
        try await increment(moved, table: usersTable, keyColumns: ["day", "system_id", "user_id", "currency"], on: sql)
        return rows.count
    }

    private static func increment(
        _ rows: [Key: Counters], table: String, keyColumns: [String], on sql: any SQLDatabase
    ) async throws {
        // In key order: transactions adding to the same rows lock them in the same order.
        for (key, counters) in rows.sorted(by: { $0.key < $1.key }) where !counters.isZero {
            var columns = keyColumns.map { SQLIdentifier($0) as any SQLExpression }
            columns += counterColumns.map { SQLIdentifier($0) as any SQLExpression }
            var values: [any SQLExpression] = [SQLBind(key.day), SQLBind(key.systemID)]
            if keyColumns.contains("user_id") { values.append(SQLBind(key.userID)) }
            values.append(SQLBind(key.currency))
            values += counters.values.map { SQLBind($0) as any SQLExpression }
            try await sql.insert(into: table).columns(columns).values(values)
                .onConflict(with: keyColumns) { set in
                    counterColumns.reduce(set) { set, column in
                        set.set(
                            SQLColumn(column),
                            to: SQLBinaryExpression(
                                SQLColumn(column, table: table), .add, SQLExcludedColumn(column)))
                    }
                }
                .run()
        }
    }

    /// Recounts everything from the messages (the migration, the import), in two statements. A migration passes
    /// the counters its schema has.
    static func rebuild(on sql: any SQLDatabase, counting columns: [String] = counterColumns) async throws {
        try await sql.delete(from: usersTable).run()
        try await sql.delete(from: systemsTable).run()
        let counters = columns.joined(separator: ", ")
        try await sql.raw(
            """
            INSERT INTO \(ident: usersTable) (day, system_id, user_id, currency, \(unsafeRaw: counters)) \
            SELECT day, system_id, user_id, currency, \(summed(columns)) FROM (\(perMessage(sql, columns))) m \
            GROUP BY day, system_id, user_id, currency
            """
        ).run()
        try await sql.raw(
            """
            INSERT INTO \(ident: systemsTable) (day, system_id, currency, \(unsafeRaw: counters)) \
            SELECT day, system_id, currency, \(summed(columns)) FROM \(ident: usersTable) GROUP BY day, system_id, currency
            """
        ).run()
    }

    // MARK: Reading the messages

    /// The rollup's rows as the messages give them.
    static func aggregate(on sql: any SQLDatabase) async throws -> [Key: Counters] {
        let rows = try await sql.raw(
            """
            SELECT day, system_id, user_id, currency, \(summed(counterColumns)) \
            FROM (\(perMessage(sql, counterColumns))) m GROUP BY day, system_id, user_id, currency
            """
        ).all()
        var result: [Key: Counters] = [:]
        for row in rows { result[try key(of: row, user: true)] = try counters(of: row) }
        return result
    }

    /// One row per message with what it adds to the sums: a user message a chat (and a failure, a refusal or a task), an
    /// answer its outcome, tokens, price (under its currency, `''` without one) and latency.
    private static func perMessage(_ sql: any SQLDatabase, _ columns: [String]) -> SQLQueryString {
        let complete = "status = '\(StoredMessage.Status.complete.rawValue)'"
        let failed = "status = '\(StoredMessage.Status.failed.rawValue)'"
        let refused = "status = '\(StoredMessage.Status.refused.rawValue)'"
        func flag(_ condition: String) -> String { "CASE WHEN \(condition) THEN 1 ELSE 0 END" }
        let latency = LatencyHistogram.bounds.indices.map { index in
            (
                "latency_le_\(index)",
                flag("\(complete) AND latency_ms <= \(Int(LatencyHistogram.bounds[index]))")
            )
        }
        let user: [(String, String)] =
            [
                ("chats", "1"), ("completed", "0"), ("failed", flag(failed)), ("refused", flag(refused)),
                ("tasks", flag("turn_kind = 'task'")), ("unknown_usage", "0"), ("prompt_tokens", "0"),
                ("completion_tokens", "0"), ("total_tokens", "0"),
                ("price_scaled", "0"), ("latency_count", "0"),
            ] + latency.map { ($0.0, "0") }
        let answer: [(String, String)] =
            [
                ("chats", "0"), ("completed", flag(complete)), ("failed", flag(failed)), ("refused", "0"),
                ("tasks", "0"), ("unknown_usage", flag("\(complete) AND prompt_tokens IS NULL")),
                ("prompt_tokens", "COALESCE(prompt_tokens, 0)"),
                ("completion_tokens", "COALESCE(completion_tokens, 0)"),
                ("total_tokens", "COALESCE(total_tokens, 0)"),
                ("price_scaled", "CASE WHEN currency IS NULL THEN 0 ELSE COALESCE(total_price_scaled, 0) END"),
                ("latency_count", flag("\(complete) AND latency_ms IS NOT NULL")),
            ] + latency
        assert(user.map(\.0) == counterColumns && answer.map(\.0) == counterColumns)
        let day =
            sql.dialect.name == "sqlite"
            ? "CAST(created_at / 86400 AS INTEGER)" : "CAST(FLOOR(EXTRACT(EPOCH FROM created_at) / 86400) AS BIGINT)"
        let priced = "CASE WHEN total_price_scaled IS NULL OR currency IS NULL THEN '' ELSE currency END"
        func select(_ role: String, currency: String, _ counted: [(String, String)]) -> SQLQueryString {
            let fields = counted.filter { columns.contains($0.0) }.map { "\($0.1) AS \($0.0)" }.joined(separator: ", ")
            return
                "SELECT \(unsafeRaw: day) AS day, system_id, user_id, \(unsafeRaw: currency) AS currency, \(unsafeRaw: fields) FROM \(ident: StoredMessage.schema) WHERE role = \(literal: role)"
        }
        return select("user", currency: "''", user) + " UNION ALL " + select("assistant", currency: priced, answer)
    }

    /// `SUM(column)` as a 64-bit integer, 0 for no rows (PostgreSQL sums `bigint` into `numeric`).
    static func sum(_ column: String) -> any SQLExpression {
        SQLQueryString("CAST(COALESCE(SUM(\(ident: column)), 0) AS BIGINT)")
    }

    /// Each of `columns` summed, under its own name.
    private static func summed(_ columns: [String]) -> SQLQueryString {
        columns.map { column -> SQLQueryString in "\(sum(column)) AS \(ident: column)" }.joined(separator: ", ")
    }

    static func key(of row: any SQLRow, user: Bool) throws -> Key {
        Key(
            day: try row.decode(column: "day", as: Int.self),
            systemID: try row.decode(column: "system_id", as: String.self),
            userID: user ? try row.decode(column: "user_id", as: String.self) : "",
            currency: try row.decode(column: "currency", as: String.self))
    }

    static func counters(of row: any SQLRow) throws -> Counters {
        Counters(values: try counterColumns.map { try row.decode(column: $0, as: Int64.self) })
    }
}
