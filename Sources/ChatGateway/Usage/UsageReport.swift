import Foundation
import SQLKit

/// `GET /v1/usage`: chats, outcomes, Dify's tokens and price, per system, user and/or day, read from the ledger's
/// daily sums (`UsageRollup`). Chats are user messages; outcomes, tokens, price and latency come from the answers.
/// Prices are summed as integers (× 10¹²), so exactly.
struct UsageReport: Sendable {
    enum GroupKey: String, Sendable {
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
        /// Of `chats`, the clients' auxiliary requests (titles, tags) through `/openai/v1`.
        var tasks = 0
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
            tasks += other.tasks
            promptTokens += other.promptTokens
            completionTokens += other.completionTokens
            totalTokens += other.totalTokens
            if let price = other.priceScaled { priceScaled = (priceScaled ?? 0) + price }
            unknownUsage += other.unknownUsage
            latency.add(other.latency)
        }
    }

    let database: any SQLDatabase

    /// The report's rows, or nil when the rollup has more than `limit` groups (each currency of a group counted).
    func rows(_ query: Query, limit: Int = .max) async throws -> [Row]? {
        let summed = try await rollup(query, limit: limit == .max ? nil : limit + 1)
        guard summed.count <= limit else { return nil }
        var groups: [[GroupKey: String]: [String?: Row]] = [:]
        for row in summed {
            groups[row.keys, default: [:]][row.currency] = row
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

    // MARK: Reading the rollup

    /// The period's rows of `UsageRollup`, summed per group and currency: the systems' table unless users are asked
    /// for, so a report by system reads a row per system and day.
    private func rollup(_ query: Query, limit: Int?) async throws -> [Row] {
        let filter = query.filter
        let byUser = query.groupBy.contains(.user) || filter.userID != nil
        var select = database.select().from(byUser ? UsageRollup.usersTable : UsageRollup.systemsTable)
        for key in query.groupBy { select = select.column(key.column) }
        select = select.column("currency")
        for column in UsageRollup.counterColumns {
            select = select.column(SQLAlias(UsageRollup.sum(column), as: column))
        }
        if let from = filter.from {
            select = select.where("day", .greaterThanOrEqual, SQLBind(UsageRollup.day(of: from)))
        }
        if let until = filter.until { select = select.where("day", .lessThan, SQLBind(UsageRollup.day(of: until))) }
        if case .systems(let ids) = filter.scope {
            select = select.where("system_id", .in, SQLBind.group(ids.sorted()))
        }
        if let systemID = filter.systemID { select = select.where("system_id", .equal, SQLBind(systemID)) }
        if let userID = filter.userID { select = select.where("user_id", .equal, SQLBind(userID)) }
        for key in query.groupBy { select = select.groupBy(key.column) }
        select = select.groupBy("currency")
        if let limit { select = select.limit(limit) }
        return try await select.all().map { sqlRow in
            var keys: [GroupKey: String] = [:]
            for key in query.groupBy {
                keys[key] =
                    key == .day
                    ? Self.dayText(try sqlRow.decode(column: "day", as: Int.self))
                    : try sqlRow.decode(column: key.column, as: String.self)
            }
            let counters = try UsageRollup.counters(of: sqlRow)
            let currency = try sqlRow.decode(column: "currency", as: String.self)
            var row = Row(keys: keys)
            row.currency = currency.isEmpty ? nil : currency
            row.chats = Int(counters["chats"])
            row.completed = Int(counters["completed"])
            row.failed = Int(counters["failed"])
            row.refused = Int(counters["refused"])
            row.tasks = Int(counters["tasks"])
            row.unknownUsage = Int(counters["unknown_usage"])
            row.promptTokens = Int(counters["prompt_tokens"])
            row.completionTokens = Int(counters["completion_tokens"])
            row.totalTokens = Int(counters["total_tokens"])
            row.priceScaled = currency.isEmpty ? nil : counters["price_scaled"]
            row.latency = LatencyHistogram(
                cumulative: LatencyHistogram.bounds.indices.map { Int(counters["latency_le_\($0)"]) },
                count: Int(counters["latency_count"]))
            return row
        }
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

    var p50: Int? { quantile(0.5) }
    var p95: Int? { quantile(0.95) }

    /// The `q` quantile, interpolated inside its bucket; nil without latencies.
    func quantile(_ q: Double) -> Int? {
        guard count > 0 else { return nil }
        let half = Double(count) * q
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
