import Foundation
import Testing

@testable import ChatGateway

/// Budgets are reserved, not only checked: the probe's 40 parallel chats of one user against a 60-token daily
/// budget used 1,000 tokens. Now parallel chats overshoot by at most one answer.
@Suite("Budgets: reservations", .hangLimit)
struct BudgetReservationTests {
    static let answerTokens = 25

    /// Waves of `parallel` chats until every chat of a wave is refused as used up; the tokens Dify was asked for.
    static func spend(
        _ gateway: GatewayHarness, users: [String], parallel: Int
    ) async throws -> (tokens: Int, statuses: Set<Int>) {
        var statuses: Set<Int> = []
        for _ in 0..<20 {
            let replies = try await withThrowingTaskGroup(of: GatewayHarness.Reply.self) { group in
                for index in 0..<parallel {
                    group.addTask {
                        try await gateway.call(
                            .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                            json: [
                                "system_id": "drillquiz", "user_id": users[index % users.count],
                                "message": "/tokens \(answerTokens)", "stream": index % 2 == 0,
                            ])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            statuses.formUnion(replies.map(\.status))
            if replies.allSatisfy({ $0.status == 429 && $0.detail?.contains("used up") == true }) { break }
        }
        let usage = try await gateway.call(
            .GET, "/v1/usage?system_id=drillquiz", headers: GatewayHarness.keyHeader)
        let totals = try #require(usage.object["totals"] as? [String: Any])
        return (try #require(totals["total_tokens"] as? Int), statuses)
    }

    @Test func fortyParallelChatsOfOneUserOvershootByAtMostOneAnswer() async throws {
        try await GatewayHarness.with(adjust: {
            $0.budgetPerUser = try! BudgetLimit.parseList("60 tokens/day", variable: "BUDGET_PER_USER")
        }) { gateway in
            let (tokens, statuses) = try await Self.spend(gateway, users: ["ann"], parallel: 40)
            #expect(tokens >= 60, "the budget was never reached: \(tokens)")
            #expect(tokens <= 60 + Self.answerTokens + 1, "used \(tokens) of 60")
            #expect(statuses.isSubset(of: [200, 429]))
            // Every refused message is kept, and nothing is left in flight.
            let stored = try await gateway.messages(system: "drillquiz", user: "ann")
            #expect(stored.contains { $0.status == .refused })
            // COUNT, not SUM: PostgreSQL sums a bigint column to a numeric, which does not decode as Int. A hold is
            // given back just after its answer is sent.
            try await gateway.waitFor("every hold given back") {
                try await gateway.sql.raw("SELECT COUNT(*) AS n FROM gateway_budget_holds WHERE in_flight > 0")
                    .first()?.decode(column: "n", as: Int.self) == 0
            }
        }
    }

    @Test func aSystemBudgetHoldsAcrossManyUsers() async throws {
        try await AdminAPITests.withAdmin { gateway in
            let created = try await gateway.call(
                .POST, "/admin/v1/systems", headers: AdminAPITests.admin,
                json: [
                    "system_id": "drillquiz", "dify_base_url": gateway.fake.baseURL,
                    "dify_api_key": GatewayHarness.difyKey, "budget": ["tokens_per_day": 100],
                ])
            #expect(created.status == 201, "\(created.text)")
            let (tokens, _) = try await Self.spend(gateway, users: (0..<40).map { "user\($0)" }, parallel: 40)
            #expect(tokens >= 100 && tokens <= 100 + Self.answerTokens + 1, "used \(tokens) of 100")
        }
    }
}
