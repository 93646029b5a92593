import Foundation
import SQLKit
import Testing
import Vapor

@testable import ChatGateway

/// `GET /v1/usage` after real chats through the fake Dify: its sums equal what the fake sent, to the token and to
/// the exact decimal price.
@Suite("Usage report", .hangLimit)
struct UsageEndpointTests {
    static let adminKey = "admin-key-usage-5c1e"
    static let scopedKey = "scoped-usage-key-77a0"

    static func adjust(_ settings: inout Settings) {
        settings.adminKeys = [adminKey]
        settings.apiKeys.append(APIKeyEntry(key: scopedKey, scope: .systems(["cointutor"])))
    }

    /// Chats as `user` of `system`, each returning Dify's `usage` as the client got it.
    static func chat(
        _ gateway: GatewayHarness, _ system: String, _ user: String, _ message: String, stream: Bool = false
    ) async throws -> [String: Any] {
        let reply = try await gateway.call(
            .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
            json: ["system_id": system, "user_id": user, "message": message, "stream": stream])
        #expect(reply.status == 200)
        if !stream { return try #require((reply.object["metadata"] as? [String: Any])?["usage"] as? [String: Any]) }
        let done = try #require(reply.text.components(separatedBy: "\n\n").first { $0.contains("event: done\n") })
        let data = try #require(done.split(separator: "\n").first { $0.hasPrefix("data: ") })
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(data.dropFirst(6).utf8)) as? [String: Any])
        return try #require((object["metadata"] as? [String: Any])?["usage"] as? [String: Any])
    }

    static func decimal(_ text: Any?) -> Decimal { Decimal(string: text as? String ?? "0") ?? .nan }

    @Test func theLedgerSumsWhatDifySentExactly() async throws {
        try await GatewayHarness.with(adjust: Self.adjust) { gateway in
            var sent: [String: [[String: Any]]] = [:]
            sent["drillquiz/ann", default: []].append(try await Self.chat(gateway, "drillquiz", "ann", "one two three"))
            sent["drillquiz/ann", default: []].append(
                try await Self.chat(gateway, "drillquiz", "ann", "/tokens 40", stream: true))
            sent["drillquiz/bob", default: []].append(try await Self.chat(gateway, "drillquiz", "bob", "hi"))
            sent["cointutor/cy", default: []].append(
                try await Self.chat(gateway, "cointutor", "cy", "/tokens 7 and more", stream: true))
            // A chat Dify refuses: counted, failed, no usage.
            await gateway.fake.store.setFault(.httpError(status: 500, code: "internal_server_error", message: "down"))
            let refused = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "bob", "message": "again"])
            #expect(refused.status == 502)
            await gateway.fake.store.setFault(nil)

            let reply = try await gateway.call(
                .GET, "/v1/usage?group_by=system,user", headers: GatewayHarness.keyHeader)
            #expect(reply.status == 200, "\(reply.text)")
            let today = Date().formatted(Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day())
            #expect(reply.object["to_date"] as? String == today)
            #expect(reply.object["group_by"] as? [String] == ["system", "user"])
            let rows = try #require(reply.object["rows"] as? [[String: Any]])
            #expect(
                rows.map { "\($0["system_id"]!)/\($0["user_id"]!)" } == [
                    "cointutor/cy", "drillquiz/ann", "drillquiz/bob",
                ])
            for row in rows {
                let usages = sent["\(row["system_id"]!)/\(row["user_id"]!)"] ?? []
                func total(_ key: String) -> Int { usages.map { $0[key] as? Int ?? 0 }.reduce(0, +) }
                #expect(row["prompt_tokens"] as? Int == total("prompt_tokens"))
                #expect(row["completion_tokens"] as? Int == total("completion_tokens"))
                #expect(row["total_tokens"] as? Int == total("total_tokens"))
                let price = usages.map { Self.decimal($0["total_price"]) }.reduce(0, +)
                #expect(Self.decimal(row["total_price"]) == price, "\(row)")
                #expect(row["currency"] as? String == "USD")
                #expect(row["completed"] as? Int == usages.count)
                #expect(row["unknown_usage"] as? Int == 0)
                let p50 = try #require(row["latency_p50_ms"] as? Int)
                #expect(p50 >= 0 && (row["latency_p95_ms"] as? Int ?? -1) >= p50)
            }
            let bob = try #require(rows.last)
            #expect(bob["chats"] as? Int == 2 && bob["failed"] as? Int == 1 && bob["completed"] as? Int == 1)
            let totals = try #require(reply.object["totals"] as? [String: Any])
            #expect(totals["chats"] as? Int == 5)
            #expect(totals["completed"] as? Int == 4)
            let allPrices = sent.values.joined().map { Self.decimal($0["total_price"]) }.reduce(0, +)
            #expect(Self.decimal(totals["total_price"]) == allPrices)
            #expect((totals["prices"] as? [[String: Any]])?.first?["currency"] as? String == "USD")

            let byDay = try await gateway.call(
                .GET, "/v1/usage?group_by=day&system_id=drillquiz", headers: GatewayHarness.keyHeader)
            let days = try #require(byDay.object["rows"] as? [[String: Any]])
            #expect(days.map { $0["day"] as? String } == [today])
            #expect(days.first?["chats"] as? Int == 4)
        }
    }

    @Test func whoMaySeeWhat() async throws {
        try await GatewayHarness.with(adjust: Self.adjust) { gateway in
            _ = try await Self.chat(gateway, "drillquiz", "ann", "hello")
            _ = try await Self.chat(gateway, "cointutor", "cy", "hello")
            let scoped = try await gateway.call(.GET, "/v1/usage", headers: [("X-API-Key", Self.scopedKey)])
            #expect(scoped.status == 200)
            #expect(
                (scoped.object["rows"] as? [[String: Any]])?.compactMap { $0["system_id"] as? String } == ["cointutor"])
            #expect(
                try await gateway.call(.GET, "/v1/usage?system_id=drillquiz", headers: [("X-API-Key", Self.scopedKey)])
                    .status
                    == 403)
            let admin = try await gateway.call(.GET, "/v1/usage", headers: [("X-Admin-Key", Self.adminKey)])
            #expect((admin.object["rows"] as? [[String: Any]])?.count == 2)
            #expect(try await gateway.call(.GET, "/v1/usage", headers: [("X-Admin-Key", "wrong")]).status == 401)
            let token = try await ChatTokenService(secret: GatewayHarness.jwtSecret).issue(
                systemID: "drillquiz", userID: "ann")
            let withToken = try await gateway.call(.GET, "/v1/usage", headers: [("Authorization", "Bearer \(token)")])
            #expect(withToken.status == 403)
            #expect(try await gateway.call(.GET, "/v1/usage").status == 401)
        }
    }

    @Test func turnsFromTheSyncAreChatsWithUnknownUsage() async throws {
        try await GatewayHarness.with(adjust: Self.adjust) { gateway in
            await gateway.fake.store.seed(user: "drillquiz_dee", conversations: 2, turnsEach: 3)
            try await gateway.register("drillquiz", "dee")
            _ = await gateway.historySync().run()
            let reply = try await gateway.call(.GET, "/v1/usage?group_by=user", headers: GatewayHarness.keyHeader)
            let row = try #require((reply.object["rows"] as? [[String: Any]])?.first)
            #expect(row["chats"] as? Int == 6)
            #expect(row["unknown_usage"] as? Int == 6)
            #expect(row["total_tokens"] as? Int == 0)
            #expect(row["total_price"] is NSNull)
            #expect(row["currency"] is NSNull)
        }
    }

    /// The daily sums the report reads agree with a recount from the messages, after chats, a failure, a refusal,
    /// and the sync.
    @Test func theDailySumsAgreeWithTheMessages() async throws {
        try await GatewayHarness.with(adjust: {
            Self.adjust(&$0)
            $0.budgetPerUser = try! BudgetLimit.parseList("40 tokens/day", variable: "BUDGET_PER_USER")
        }) { gateway in
            _ = try await Self.chat(gateway, "drillquiz", "ann", "/tokens 30")
            _ = try await Self.chat(gateway, "drillquiz", "ann", "/tokens 30", stream: true)
            #expect(
                try await gateway.call(
                    .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                    json: ["system_id": "drillquiz", "user_id": "ann", "message": "refused"]
                ).status == 429)
            await gateway.fake.store.setFault(.httpError(status: 500, code: "internal_server_error", message: "down"))
            _ = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "cointutor", "user_id": "cy", "message": "x"])
            await gateway.fake.store.setFault(nil)
            await gateway.fake.store.seed(user: "drillquiz_dee", conversations: 1, turnsEach: 2)
            try await gateway.register("drillquiz", "dee")
            _ = await gateway.historySync().run()

            let sql = gateway.app.db as! any SQLDatabase
            let recounted = try await UsageRollup.aggregate(on: sql)
            var stored: [UsageRollup.Key: UsageRollup.Counters] = [:]
            for row in try await sql.select().column("*").from(UsageRollup.usersTable).all() {
                stored[try UsageRollup.key(of: row, user: true)] = try UsageRollup.counters(of: row)
            }
            #expect(stored == recounted)
            var systems: [UsageRollup.Key: UsageRollup.Counters] = [:]
            for (key, counters) in recounted {
                systems[key.systemKey, default: .init()] = systems[key.systemKey, default: .init()] + counters
            }
            var storedSystems: [UsageRollup.Key: UsageRollup.Counters] = [:]
            for row in try await sql.select().column("*").from(UsageRollup.systemsTable).all() {
                storedSystems[try UsageRollup.key(of: row, user: false)] = try UsageRollup.counters(of: row)
            }
            #expect(storedSystems == systems)
        }
    }

    /// Deleting a conversation removes its messages, not what it cost: the sums, and so the budgets, keep it,
    /// through the next sync too.
    @Test func deletingAConversationKeepsItsUsage() async throws {
        try await GatewayHarness.with(adjust: Self.adjust) { gateway in
            let key = GatewayHarness.keyHeader
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: key,
                json: ["system_id": "drillquiz", "user_id": "ann", "message": "/tokens 12"])
            let conversation = try #require(reply.object["conversation_id"] as? String)
            let deleted = try await gateway.call(
                .DELETE, "/v1/conversations/\(conversation)?system_id=drillquiz&user_id=ann", headers: key)
            #expect(deleted.status == 204 || deleted.status == 200)
            _ = await gateway.historySync().run()
            let usage = try await gateway.call(.GET, "/v1/usage?group_by=user", headers: key)
            let row = try #require((usage.object["rows"] as? [[String: Any]])?.first)
            #expect(row["chats"] as? Int == 1)
            #expect((row["total_tokens"] as? Int ?? 0) > 12)
        }
    }

    @Test func csvHasTheSameRows() async throws {
        try await GatewayHarness.with(adjust: Self.adjust) { gateway in
            let usage = try await Self.chat(gateway, "drillquiz", "ann", "one two")
            let reply = try await gateway.call(
                .GET, "/v1/usage?format=csv&group_by=system,day", headers: GatewayHarness.keyHeader)
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: .contentType)?.hasPrefix("text/csv") == true)
            let lines = reply.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(
                lines.first
                    == "system_id,day,currency,chats,completed,failed,refused,tasks,prompt_tokens,completion_tokens,total_tokens,total_price,unknown_usage,latency_p50_ms,latency_p95_ms"
            )
            try #require(lines.count == 2)
            let fields = lines[1].split(separator: ",").map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            #expect(fields[0] == "drillquiz" && fields[2] == "USD" && fields[3] == "1")
            #expect(Decimal(string: fields[11]) == Self.decimal(usage["total_price"]))
        }
    }

    @Test(arguments: [
        "group_by=week", "group_by=system,system", "from_date=2026-13-01", "from_date=2026-01-10&to_date=2026-01-01",
        "format=xml", "from_date=2020-01-01&to_date=2026-01-01",
    ])
    func badQueriesAre422(query: String) async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(.GET, "/v1/usage?\(query)", headers: GatewayHarness.keyHeader)
            #expect(reply.status == 422, "\(query): \(reply.text)")
            #expect(reply.detail?.isEmpty == false)
        }
    }

    @Test func scaledPricesRoundTripExactly() {
        #expect(DifyUsage.scaled("0.0012890") == 1_289_000_000)
        #expect(DifyUsage.scaled("12") == 12_000_000_000_000)
        #expect(DifyUsage.scaled("-1") == nil && DifyUsage.scaled("1e-3") == nil && DifyUsage.scaled("") == nil)
        #expect(DifyUsage.decimalText(scaled: 1_289_000_000) == "0.001289")
        #expect(DifyUsage.decimalText(scaled: 12_000_000_000_000) == "12.0")
        #expect(DifyUsage.decimalText(scaled: 3) == "0.000000000003")
    }
}

@Suite("Latency buckets")
struct LatencyHistogramTests {
    @Test func quantilesInterpolateInsideTheirBucket() {
        // 10 answers: 4 within 100 ms, 4 more within 200 ms, 2 more within 300 ms.
        var cumulative = Array(repeating: 10, count: LatencyHistogram.bounds.count)
        cumulative[0] = 0
        cumulative[1] = 4
        cumulative[2] = 8
        let histogram = LatencyHistogram(cumulative: cumulative, count: 10)
        #expect(histogram.p50 == 125)
        #expect(histogram.p95 == 275)
        #expect(LatencyHistogram().p50 == nil)
    }
}
