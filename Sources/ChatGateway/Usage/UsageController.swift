import Fluent
import SQLKit
import Vapor

/// `GET /v1/usage`: the usage report, as JSON or (`format=csv`) RFC 4180 CSV.
/// An all-systems key, an admin key or the history page's session sees every system; a key limited to some
/// systems sees only those; a chat token is refused.
struct UsageController: RouteCollection {
    let access: OperatorAccess
    let adminGuard: AdminGuard
    let reports: ReportDatabase
    /// Reports run a few at a time, per key and in all (`ConcurrencyGate.reports`).
    let gate: ConcurrencyGate
    let now: @Sendable () -> Date

    /// The longest period one report covers.
    static let maxDays = 400
    /// The most groups one report returns: a larger one is refused, saying how to narrow it.
    static let maxGroups = 10_000
    /// CSV goes out this many rows at a time.
    static let csvChunkRows = 500

    func boot(routes: any RoutesBuilder) throws {
        routes.get("usage", use: usage)
    }

    @Sendable
    func usage(_ req: Request) async throws -> Response {
        let scope = try await scope(of: req)
        let (query, period) = try Self.query(req, scope: scope, today: now())
        guard let format = Format(rawValue: req.query[String.self, at: "format"] ?? "json") else {
            throw Abort(.unprocessableEntity, reason: "format must be json or csv")
        }
        let rows = try await gate.run(key: ConcurrencyGate.caller(of: req)) {
            try await reports.read { database in
                try await UsageReport(database: database as! any SQLDatabase).rows(query, limit: Self.maxGroups)
            }
        }
        guard let rows else {
            throw Abort(
                .unprocessableEntity,
                reason:
                    "the report has more than \(Self.maxGroups) groups: narrow it with from_date and to_date, system_id or user_id, or group by fewer keys"
            )
        }
        switch format {
        case .json:
            let body = UsageBody(from: period.from, to: period.to, groupBy: query.groupBy, rows: rows)
            return try await body.encodeResponse(for: req)
        case .csv:
            var headers = HTTPHeaders()
            headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
            headers.replaceOrAdd(
                name: .contentDisposition, value: "attachment; filename=\"usage-\(period.from)-\(period.to).csv\"")
            let groupBy = query.groupBy
            return Response(
                status: .ok, headers: headers,
                body: .init(managedAsyncStream: { writer in
                    try await writer.writeBuffer(ByteBuffer(string: UsageBody.csvHeader(groupBy: groupBy)))
                    for start in stride(from: 0, to: rows.count, by: Self.csvChunkRows) {
                        let chunk = rows[start..<min(start + Self.csvChunkRows, rows.count)]
                        try await writer.writeBuffer(ByteBuffer(string: UsageBody.csvRecords(chunk, groupBy: groupBy)))
                    }
                }))
        }
    }

    /// `format=`: checked before the report is read.
    enum Format: String { case json, csv }

    private func scope(of req: Request) async throws -> KeyScope {
        if let presented = req.headers.first(name: "X-Admin-Key") {
            _ = try await adminGuard.verify(presented, from: req)
            return .allSystems
        }
        if req.headers.first(name: "X-API-Key") == nil, req.headers.bearerAuthorization != nil {
            throw AuthError.operatorsOnly
        }
        return try await access.scope(req)
    }

    /// The filters, with the period defaulting to the last 30 days up to today (UTC).
    static func query(
        _ req: Request, scope: KeyScope, today: Date
    ) throws -> (UsageReport.Query, (from: String, to: String)) {
        var filter = try CacheFilter.parse(req, scope: scope)
        let day: TimeInterval = 86_400
        let startOfToday = Calendar.utc.startOfDay(for: today)
        if filter.until == nil { filter.until = (filter.from.map { max($0, startOfToday) } ?? startOfToday) + day }
        let until = filter.until!
        if filter.from == nil { filter.from = until - 30 * day }
        let from = filter.from!
        guard until.timeIntervalSince(from) <= Double(maxDays) * day else {
            throw Abort(.unprocessableEntity, reason: "from_date to to_date may span at most \(maxDays) days")
        }
        let groupBy = try (req.query[String.self, at: "group_by"] ?? "system").split(separator: ",").map { raw in
            let name = raw.trimmingCharacters(in: .whitespaces)
            guard let key = UsageReport.GroupKey(rawValue: name) else {
                throw Abort(
                    .unprocessableEntity,
                    reason: "group_by takes system, user, day or a comma list of them, not \"\(name)\"")
            }
            return key
        }
        guard !groupBy.isEmpty, Set(groupBy).count == groupBy.count else {
            throw Abort(
                .unprocessableEntity, reason: "group_by takes system, user, day or a comma list of them, each once")
        }
        let text = { (date: Date) in UsageReport.dayText(UsageRollup.day(of: date)) }
        return (UsageReport.Query(filter: filter, groupBy: groupBy), (text(from), text(until - day)))
    }
}

/// The JSON answer: `{from_date, to_date, group_by, rows, totals}`.
struct UsageBody: Content {
    struct Row: Content {
        var systemID: String?
        var userID: String?
        var day: String?
        var currency: String?
        var chats: Int
        var completed: Int
        var failed: Int
        var refused: Int
        var tasks: Int
        var promptTokens: Int
        var completionTokens: Int
        var totalTokens: Int
        /// A decimal string, summed exactly; nil when no answer had a price.
        var totalPrice: String?
        var unknownUsage: Int
        var latencyP50MS: Int?
        var latencyP95MS: Int?
        /// In `totals` only: the price per currency, never added across currencies.
        var prices: [Price]?

        enum CodingKeys: String, CodingKey {
            case systemID = "system_id", userID = "user_id", day, currency, chats, completed, failed, refused, tasks
            case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
            case totalPrice = "total_price", unknownUsage = "unknown_usage", latencyP50MS = "latency_p50_ms"
            case latencyP95MS = "latency_p95_ms", prices
        }

        init(_ row: UsageReport.Row) {
            systemID = row.keys[.system]
            userID = row.keys[.user]
            day = row.keys[.day]
            currency = row.currency
            chats = row.chats
            completed = row.completed
            failed = row.failed
            refused = row.refused
            tasks = row.tasks
            promptTokens = row.promptTokens
            completionTokens = row.completionTokens
            totalTokens = row.totalTokens
            totalPrice = row.priceScaled.map { DifyUsage.decimalText(scaled: $0) }
            unknownUsage = row.unknownUsage
            latencyP50MS = row.latency.p50
            latencyP95MS = row.latency.p95
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(systemID, forKey: .systemID)
            try container.encodeIfPresent(userID, forKey: .userID)
            try container.encodeIfPresent(day, forKey: .day)
            try container.encode(currency, forKey: .currency)
            try container.encode(chats, forKey: .chats)
            try container.encode(completed, forKey: .completed)
            try container.encode(failed, forKey: .failed)
            try container.encode(refused, forKey: .refused)
            try container.encode(tasks, forKey: .tasks)
            try container.encode(promptTokens, forKey: .promptTokens)
            try container.encode(completionTokens, forKey: .completionTokens)
            try container.encode(totalTokens, forKey: .totalTokens)
            try container.encode(totalPrice, forKey: .totalPrice)
            try container.encode(unknownUsage, forKey: .unknownUsage)
            try container.encode(latencyP50MS, forKey: .latencyP50MS)
            try container.encode(latencyP95MS, forKey: .latencyP95MS)
            try container.encodeIfPresent(prices, forKey: .prices)
        }
    }

    struct Price: Content {
        var currency: String
        var totalPrice: String
        enum CodingKeys: String, CodingKey { case currency, totalPrice = "total_price" }
    }

    var fromDate: String
    var toDate: String
    var groupBy: [String]
    var rows: [Row]
    var totals: Row

    enum CodingKeys: String, CodingKey {
        case fromDate = "from_date", toDate = "to_date", groupBy = "group_by", rows, totals
    }

    init(from: String, to: String, groupBy: [UsageReport.GroupKey], rows: [UsageReport.Row]) {
        fromDate = from
        toDate = to
        self.groupBy = groupBy.map(\.rawValue)
        self.rows = rows.map(Row.init)
        totals = Row(UsageReport.totals(rows))
        totals.prices = UsageReport.prices(rows).map {
            Price(currency: $0.currency, totalPrice: DifyUsage.decimalText(scaled: $0.priceScaled))
        }
    }

    static let csvFields = [
        "currency", "chats", "completed", "failed", "refused", "tasks", "prompt_tokens", "completion_tokens",
        "total_tokens",
        "total_price", "unknown_usage", "latency_p50_ms", "latency_p95_ms",
    ]

    /// The CSV's header: the group keys' columns, then the figures.
    static func csvHeader(groupBy: [UsageReport.GroupKey]) -> String { CSV.header(groupBy.map(\.column) + csvFields) }

    /// The rows as CSV records, under `csvHeader`.
    static func csvRecords(_ rows: ArraySlice<UsageReport.Row>, groupBy: [UsageReport.GroupKey]) -> String {
        var text = ""
        for row in rows {
            let keys = groupBy.map { row.keys[$0] ?? "" }
            let counts: [String] = [row.chats, row.completed, row.failed, row.refused, row.tasks].map(
                String.init)
            let tokens: [String] = [row.promptTokens, row.completionTokens, row.totalTokens].map(String.init)
            let price: String = row.priceScaled.map { DifyUsage.decimalText(scaled: $0) } ?? ""
            let latency: [String] = [row.latency.p50, row.latency.p95].map { $0.map(String.init) ?? "" }
            let figures: [String] =
                [row.currency ?? ""] + counts + tokens + [price, String(row.unknownUsage)] + latency
            text += CSV.record(keys + figures)
        }
        return text
    }
}
