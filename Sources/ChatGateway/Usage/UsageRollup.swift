import Foundation
import SQLKit

/// The ledger summed per UTC day: `gateway_usage_users` per (day, system, user, currency) and
/// `gateway_usage_systems` per (day, system, currency), so the usage report and the budgets read a few rows
/// instead of every message. A chat's writes add to both in their own transaction; the sync recounts a user from
/// the messages; the migration and the import recount everything. `currency` is `''` for what has no price.
enum UsageRollup {
    static let usersTable = "gateway_usage_users"
    static let systemsTable = "gateway_usage_systems"

    struct Key: Hashable, Sendable {
        var day: Int
        var systemID: String
        var userID: String
        var currency: String

        var systemKey: Key { Key(day: day, systemID: systemID, userID: "", currency: currency) }
    }

    /// The summed columns, in table order; `latency_le_<i>` counts answers within `LatencyHistogram.bounds[i]`.
    static let counterColumns =
        [
            "chats", "completed", "failed", "refused", "unknown_usage", "prompt_tokens", "completion_tokens",
            "total_tokens", "price_scaled", "latency_count",
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
        static func - (lhs: Counters, rhs: Counters) -> Counters {
            Counters(values: zip(lhs.values, rhs.values).map(-))
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

    private static func increment(
        _ rows: [Key: Counters], table: String, keyColumns: [String], on sql: any SQLDatabase
    ) async throws {
        for (key, counters) in rows where !counters.isZero {
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

    /// Recounts one user from their messages, and moves the systems' table by the difference.
    static func recount(systemID: String, userID: String, on sql: any SQLDatabase) async throws {
        let fresh = try await aggregate(systemID: systemID, userID: userID, on: sql)
        var old: [Key: Counters] = [:]
        for row in try await sql.select().column("*").from(usersTable)
            .where("system_id", .equal, SQLBind(systemID)).where("user_id", .equal, SQLBind(userID)).all()
        {
            old[try key(of: row, user: true)] = try counters(of: row)
        }
        try await sql.delete(from: usersTable)
            .where("system_id", .equal, SQLBind(systemID)).where("user_id", .equal, SQLBind(userID)).run()
        try await increment(fresh, table: usersTable, keyColumns: ["day", "system_id", "user_id", "currency"], on: sql)
        var difference: [Key: Counters] = [:]
        for (key, counters) in fresh {
            difference[key.systemKey, default: Counters()] = difference[key.systemKey, default: Counters()] + counters
        }
        for (key, counters) in old {
            difference[key.systemKey, default: Counters()] = difference[key.systemKey, default: Counters()] - counters
        }
        try await increment(difference, table: systemsTable, keyColumns: ["day", "system_id", "currency"], on: sql)
    }

    /// Recounts everything from the messages (the migration, the import).
    static func rebuild(on sql: any SQLDatabase) async throws {
        try await sql.delete(from: usersTable).run()
        try await sql.delete(from: systemsTable).run()
        try await add(try await aggregate(systemID: nil, userID: nil, on: sql), on: sql)
    }

    // MARK: Reading the messages

    /// The rollup's rows as the messages give them (all, or one user's).
    static func aggregate(systemID: String?, userID: String?, on sql: any SQLDatabase) async throws -> [Key: Counters] {
        var result: [Key: Counters] = [:]
        func select(_ role: String) -> SQLSelectBuilder {
            var select = sql.select().from(StoredMessage.schema)
                .column(SQLAlias(dayNumber(sql), as: "day")).column("system_id").column("user_id")
                .where("role", .equal, SQLBind(role))
            if let systemID { select = select.where("system_id", .equal, SQLBind(systemID)) }
            if let userID { select = select.where("user_id", .equal, SQLBind(userID)) }
            return select.groupBy(dayNumber(sql)).groupBy("system_id").groupBy("user_id")
        }
        let users = try await select("user")
            .column("status").column(SQLAlias(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")).groupBy("status")
            .all()
        for row in users {
            let key = Key(
                day: try row.decode(column: "day", as: Int.self),
                systemID: try row.decode(column: "system_id", as: String.self),
                userID: try row.decode(column: "user_id", as: String.self), currency: "")
            let count = try row.decode(column: "n", as: Int64.self)
            var counters = Counters()
            counters["chats"] = count
            switch try row.decode(column: "status", as: String.self) {
            case StoredMessage.Status.failed.rawValue: counters["failed"] = count
            case StoredMessage.Status.refused.rawValue: counters["refused"] = count
            default: break
            }
            result[key, default: Counters()] = result[key, default: Counters()] + counters
        }
        let priced = SQLQueryString(
            "CASE WHEN total_price_scaled IS NULL OR currency IS NULL THEN '' ELSE currency END")
        let complete = StoredMessage.Status.complete.rawValue
        func count(_ condition: String) -> any SQLExpression {
            SQLQueryString("CAST(SUM(CASE WHEN \(unsafeRaw: condition) THEN 1 ELSE 0 END) AS BIGINT)")
        }
        var answers = select("assistant").column(SQLAlias(priced, as: "currency")).groupBy(priced)
            .column(SQLAlias(count("status = '\(complete)'"), as: "completed"))
            .column(SQLAlias(count("status = '\(StoredMessage.Status.failed.rawValue)'"), as: "failed"))
            .column(SQLAlias(count("status = '\(complete)' AND prompt_tokens IS NULL"), as: "unknown_usage"))
            .column(SQLAlias(count("status = '\(complete)' AND latency_ms IS NOT NULL"), as: "latency_count"))
        for column in ["prompt_tokens", "completion_tokens", "total_tokens"] {
            answers = answers.column(SQLAlias(UsageReport.integerSum(column), as: column))
        }
        answers = answers.column(SQLAlias(UsageReport.integerSum("total_price_scaled"), as: "price_scaled"))
        for (index, bound) in LatencyHistogram.bounds.enumerated() {
            answers = answers.column(
                SQLAlias(count("status = '\(complete)' AND latency_ms <= \(Int(bound))"), as: "latency_le_\(index)"))
        }
        for row in try await answers.all() {
            let key = Key(
                day: try row.decode(column: "day", as: Int.self),
                systemID: try row.decode(column: "system_id", as: String.self),
                userID: try row.decode(column: "user_id", as: String.self),
                currency: try row.decode(column: "currency", as: String.self))
            var counters = Counters()
            for column in counterColumns where !["chats", "refused"].contains(column) {
                counters[column] = try row.decode(column: column, as: Int64.self)
            }
            result[key, default: Counters()] = result[key, default: Counters()] + counters
        }
        return result
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

    /// Days since 1970-01-01 (UTC) of `created_at`: SQLite keeps seconds since then, PostgreSQL a timestamp.
    static func dayNumber(_ sql: any SQLDatabase) -> any SQLExpression {
        sql.dialect.name == "sqlite"
            ? SQLQueryString("CAST(created_at / 86400 AS INTEGER)")
            : SQLQueryString("CAST(FLOOR(EXTRACT(EPOCH FROM created_at) / 86400) AS BIGINT)")
    }
}
