import Foundation
import SQLKit

/// `GET /v1/usage`: chats, outcomes, Dify's tokens and price, per system, user and/or day, read from the
/// ledger columns of `gateway_messages` through its (role, created_at) index. Chats are user messages; outcomes,
/// tokens, price and latency come from the answers. Prices are summed as integers (× 10¹²), so exactly.
struct UsageReport: Sendable {
    enum GroupKey: String, Sendable, CaseIterable {
        case system, user, day

        var column: String {
            switch self {
            case .system: "system_id"
            case .user: "user_id"
            case .day: "day"
            }
        }
    }

    struct Query: Sendable {
        var filter: CacheFilter
        var groupBy: [GroupKey]
    }

    /// One row of the report; `currency` nil when none of its answers carried a price.
    struct Row: Sendable, Equatable {
        var keys: [GroupKey: String] = [:]
        var currency: String?
        var chats = 0
        var completed = 0
        var failed = 0
        var refused = 0
        var promptTokens = 0
        var completionTokens = 0
        var totalTokens = 0
        /// Σ total_price × 10¹²; nil when no answer had a price.
        var priceScaled: Int64?
        var unknownUsage = 0
        var latency = LatencyHistogram()

        mutating func add(_ other: Row) {
            chats += other.chats
            completed += other.completed
            failed += other.failed
            refused += other.refused
            promptTokens += other.promptTokens
            completionTokens += other.completionTokens
            totalTokens += other.totalTokens
            if let price = other.priceScaled { priceScaled = (priceScaled ?? 0) + price }
            unknownUsage += other.unknownUsage
            latency.add(other.latency)
        }
    }

    let database: any SQLDatabase

    func rows(_ query: Query) async throws -> [Row] {
        var groups: [[GroupKey: String]: [String?: Row]] = [:]
        for (keys, status, count) in try await userMessages(query) {
            var row = groups[keys, default: [:]][nil, default: Row(keys: keys)]
            row.chats += count
            if status == StoredMessage.Status.failed.rawValue { row.failed += count }
            if status == StoredMessage.Status.refused.rawValue { row.refused += count }
            groups[keys, default: [:]][nil] = row
        }
        for answer in try await answers(query) {
            var row = groups[answer.keys, default: [:]][answer.currency, default: Row(keys: answer.keys)]
            row.currency = answer.currency
            row.add(answer)
            groups[answer.keys, default: [:]][answer.currency] = row
        }
        return groups.values.flatMap(Self.mergeCurrencies).sorted { lhs, rhs in
            for key in query.groupBy where lhs.keys[key] != rhs.keys[key] {
                return (lhs.keys[key] ?? "") < (rhs.keys[key] ?? "")
            }
            return (lhs.currency ?? "") < (rhs.currency ?? "")
        }
    }

    /// A group whose priced answers are all in one currency is one row; with several currencies, each is a row of
    /// its own and what has no price (chats, failures, unknown usage) stays in a row without currency.
    static func mergeCurrencies(_ byCurrency: [String?: Row]) -> [Row] {
        let priced = byCurrency.keys.compactMap { $0 }
        guard priced.count <= 1 else { return Array(byCurrency.values) }
        var merged = Row(keys: byCurrency.values.first?.keys ?? [:])
        for row in byCurrency.values { merged.add(row) }
        merged.currency = priced.first
        return [merged]
    }

    /// Totals per currency, summed over `rows`.
    static func totals(_ rows: [Row]) -> Row {
        var total = Row()
        for row in rows { total.add(row) }
        let currencies = Set(rows.compactMap(\.currency))
        total.currency = currencies.count == 1 ? currencies.first : nil
        if currencies.count > 1 { total.priceScaled = nil }
        return total
    }

    /// Σ price × 10¹² per currency.
    static func prices(_ rows: [Row]) -> [(currency: String, priceScaled: Int64)] {
        var byCurrency: [String: Int64] = [:]
        for row in rows {
            if let currency = row.currency, let price = row.priceScaled { byCurrency[currency, default: 0] += price }
        }
        return byCurrency.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    // MARK: Queries

    private func userMessages(_ query: Query) async throws -> [([GroupKey: String], String, Int)] {
        let select = grouped(
            query, role: "user",
            extra: [SQLColumn("status"), SQLAlias(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")]
        )
        .groupBy("status")
        return try await select.all().map { row in
            (
                try keys(of: row, query), try row.decode(column: "status", as: String.self),
                try row.decode(column: "n", as: Int.self)
            )
        }
    }

    private func answers(_ query: Query) async throws -> [Row] {
        func sum(_ column: String) -> any SQLExpression { SQLAlias(Self.integerSum(column), as: column) }
        var extra: [any SQLExpression] = [
            SQLColumn("status"), SQLColumn("currency"), SQLAlias(SQLFunction("COUNT", args: SQLLiteral.all), as: "n"),
            SQLAlias(SQLFunction("COUNT", args: SQLColumn("prompt_tokens")), as: "with_usage"),
            SQLAlias(SQLFunction("COUNT", args: SQLColumn("total_price_scaled")), as: "with_price"),
            sum("prompt_tokens"), sum("completion_tokens"), sum("total_tokens"), sum("total_price_scaled"),
        ]
        for (index, bound) in LatencyHistogram.bounds.enumerated() {
            extra.append(
                SQLAlias(
                    SQLQueryString(
                        "CAST(SUM(CASE WHEN latency_ms <= \(literal: Int(bound)) THEN 1 ELSE 0 END) AS BIGINT)"),
                    as: "le_\(index)"))
        }
        extra.append(SQLAlias(SQLFunction("COUNT", args: SQLColumn("latency_ms")), as: "latencies"))
        let select = grouped(query, role: "assistant", extra: extra).groupBy("status").groupBy("currency")
        return try await select.all().map { row in
            let status = try row.decode(column: "status", as: String.self)
            let count = try row.decode(column: "n", as: Int.self)
            let withUsage = try row.decode(column: "with_usage", as: Int.self)
            var answer = Row(keys: try keys(of: row, query))
            answer.currency =
                try row.decode(column: "with_price", as: Int.self) > 0
                ? try row.decode(column: "currency", as: String?.self) : nil
            switch status {
            case StoredMessage.Status.complete.rawValue:
                answer.completed = count
                answer.unknownUsage = count - withUsage
            case StoredMessage.Status.failed.rawValue: answer.failed = count
            default: break
            }
            answer.promptTokens = try row.decode(column: "prompt_tokens", as: Int.self)
            answer.completionTokens = try row.decode(column: "completion_tokens", as: Int.self)
            answer.totalTokens = try row.decode(column: "total_tokens", as: Int.self)
            if try row.decode(column: "with_price", as: Int.self) > 0 {
                answer.priceScaled = try row.decode(column: "total_price_scaled", as: Int64.self)
            }
            if status == StoredMessage.Status.complete.rawValue {
                answer.latency = LatencyHistogram(
                    cumulative: try LatencyHistogram.bounds.indices.map {
                        try row.decode(column: "le_\($0)", as: Int?.self) ?? 0
                    },
                    count: try row.decode(column: "latencies", as: Int.self))
            }
            return answer
        }
    }

    /// `SELECT <group keys>, <extra> FROM gateway_messages WHERE role = … AND created_at in the range … GROUP BY
    /// <group keys>`: a range of the (role, created_at) index.
    private func grouped(_ query: Query, role: String, extra: [any SQLExpression]) -> SQLSelectBuilder {
        var select = database.select().from(StoredMessage.schema)
        for key in query.groupBy {
            select = select.column(key == .day ? SQLAlias(dayNumber, as: "day") : SQLColumn(key.column))
        }
        for expression in extra { select = select.column(expression) }
        select = select.where("role", .equal, SQLBind(role))
        let filter = query.filter
        if let from = filter.from { select = select.where("created_at", .greaterThanOrEqual, SQLBind(from)) }
        if let until = filter.until { select = select.where("created_at", .lessThan, SQLBind(until)) }
        if case .systems(let ids) = filter.scope {
            select = select.where("system_id", .in, SQLBind.group(ids.sorted()))
        }
        if let systemID = filter.systemID { select = select.where("system_id", .equal, SQLBind(systemID)) }
        if let userID = filter.userID { select = select.where("user_id", .equal, SQLBind(userID)) }
        for key in query.groupBy { select = select.groupBy(key == .day ? dayNumber : SQLColumn(key.column)) }
        return select
    }

    /// `SUM(column)` as a 64-bit integer, 0 for no rows (PostgreSQL sums `bigint` into `numeric`).
    static func integerSum(_ column: String) -> any SQLExpression {
        SQLQueryString("CAST(COALESCE(SUM(\(ident: column)), 0) AS BIGINT)")
    }

    /// Days since 1970-01-01 (UTC) of `created_at`: SQLite keeps seconds since then, PostgreSQL a timestamp.
    private var dayNumber: any SQLExpression {
        database.dialect.name == "sqlite"
            ? SQLQueryString("CAST(created_at / 86400 AS INTEGER)")
            : SQLQueryString("CAST(FLOOR(EXTRACT(EPOCH FROM created_at) / 86400) AS BIGINT)")
    }

    private func keys(of row: any SQLRow, _ query: Query) throws -> [GroupKey: String] {
        var keys: [GroupKey: String] = [:]
        for key in query.groupBy {
            keys[key] =
                key == .day
                ? Self.dayText(try row.decode(column: "day", as: Int.self))
                : try row.decode(column: key.column, as: String.self)
        }
        return keys
    }

    /// `20425` → `2025-12-03`.
    static func dayText(_ daysSinceEpoch: Int) -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(daysSinceEpoch) * 86_400)
        return date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
    }
}

/// Dify's latencies of completed answers in fixed buckets (counted in SQL), for an estimated median.
struct LatencyHistogram: Sendable, Equatable {
    /// Upper bounds in milliseconds.
    static let bounds: [Double] = [
        50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10_000, 15_000, 20_000, 30_000, 60_000,
        120_000, 300_000,
    ]
    /// Answers with a latency at or under each bound.
    var cumulative = Array(repeating: 0, count: bounds.count)
    var count = 0

    mutating func add(_ other: LatencyHistogram) {
        for index in cumulative.indices { cumulative[index] += other.cumulative[index] }
        count += other.count
    }

    /// The median, interpolated inside its bucket; nil without latencies.
    var p50: Int? {
        guard count > 0 else { return nil }
        let half = Double(count) / 2
        var lower = 0.0
        var below = 0
        for (index, bound) in Self.bounds.enumerated() {
            let atOrUnder = cumulative[index]
            if Double(atOrUnder) >= half {
                let inBucket = atOrUnder - below
                let share = inBucket > 0 ? (half - Double(below)) / Double(inBucket) : 0
                return Int((lower + share * (bound - lower)).rounded())
            }
            lower = bound
            below = atOrUnder
        }
        return Int(Self.bounds.last!)
    }
}
