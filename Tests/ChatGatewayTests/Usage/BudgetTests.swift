import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// Budgets: a used-up budget refuses the next chat before Dify is called, with 429, `Retry-After` at the end of
/// the UTC period and the documented wording, and keeps the user's message as `refused`.
@Suite("Budgets", .hangLimit)
struct BudgetTests {
    static func chat(
        _ gateway: GatewayHarness, _ system: String, _ user: String, stream: Bool = false
    ) async throws
        -> GatewayHarness.Reply
    {
        try await gateway.call(
            .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
            json: ["system_id": system, "user_id": user, "message": "/tokens 30", "stream": stream])
    }

    static func startOfTomorrow() -> Date {
        Calendar.utc.date(byAdding: .day, value: 1, to: Calendar.utc.startOfDay(for: Date()))!
    }

    @Test func aUsersDailyTokenBudgetRefusesTheNextChat() async throws {
        try await GatewayHarness.with(adjust: {
            $0.budgetPerUser = try! BudgetLimit.parseList("50 tokens/day", variable: "BUDGET_PER_USER")
        }) { gateway in
            #expect(try await Self.chat(gateway, "drillquiz", "ann").status == 200)
            #expect(try await Self.chat(gateway, "drillquiz", "ann", stream: true).status == 200)
            let asked = await gateway.fake.store.chatRequestCount
            let refused = try await Self.chat(gateway, "drillquiz", "ann", stream: true)
            #expect(refused.status == 429)
            let reset = ISO8601.wholeSeconds(Self.startOfTomorrow())
            #expect(refused.detail == "The daily token budget of 50 for this user is used up; it resets at \(reset)")
            let retryAfter = try #require(refused.headers.first(name: .retryAfter).flatMap(Int.init))
            #expect(abs(Double(retryAfter) - Self.startOfTomorrow().timeIntervalSinceNow) < 5)
            #expect(refused.headers.first(name: "X-Budget-Resets") == reset)
            #expect(await gateway.fake.store.chatRequestCount == asked, "Dify was called for a refused chat")
            let stored = try await gateway.messages(system: "drillquiz", user: "ann")
            #expect(stored.last?.status == .refused)
            #expect(stored.last?.content == "/tokens 30")
            // Another user, and the same user of another system, are not affected.
            #expect(try await Self.chat(gateway, "drillquiz", "bob").status == 200)
            #expect(try await Self.chat(gateway, "cointutor", "ann").status == 200)

            let usage = try await gateway.call(
                .GET, "/v1/usage?group_by=user&system_id=drillquiz", headers: GatewayHarness.keyHeader)
            let ann = try #require(
                (usage.object["rows"] as? [[String: Any]])?.first { $0["user_id"] as? String == "ann" })
            #expect(ann["chats"] as? Int == 3 && ann["refused"] as? Int == 1 && ann["completed"] as? Int == 2)
            let metrics = MetricsEndpointTests.samples(try await gateway.call(.GET, "/metrics").text)
            #expect(metrics[#"chatgw_budget_refusals_total{system="other"}"#] == 1)
            #expect(metrics[#"chatgw_chats_total{system="other",mode="stream",outcome="refused"}"#] == 1)
        }
    }

    @Test func aMonthlyPriceBudgetSpeaksOfTheMonth() async throws {
        try await GatewayHarness.with(adjust: {
            $0.budgetPerUser = try! BudgetLimit.parseList("1000000 tokens/day, 0.0000001 USD/month", variable: "B")
        }) { gateway in
            #expect(try await Self.chat(gateway, "drillquiz", "ann").status == 200)
            let refused = try await Self.chat(gateway, "drillquiz", "ann")
            #expect(refused.status == 429)
            let month = Calendar.utc.dateComponents([.year, .month], from: Date())
            let nextMonth = Calendar.utc.date(byAdding: .month, value: 1, to: Calendar.utc.date(from: month)!)!
            #expect(
                refused.detail
                    == "The monthly budget of 0.0000001 USD for this user is used up; it resets at \(ISO8601.wholeSeconds(nextMonth))"
            )
        }
    }

    @Test func aSystemsOwnBudgetReplacesTheDefaultAndCapsTheWholeSystem() async throws {
        try await AdminAPITests.withAdmin({
            $0.budgetPerUser = try! BudgetLimit.parseList("1 tokens/day", variable: "BUDGET_PER_USER")
        }) { gateway in
            let created = try await gateway.call(
                .POST, "/admin/v1/systems", headers: AdminAPITests.admin,
                json: [
                    "system_id": "capped", "budget": ["tokens_per_day": 60, "per_user_price_per_month": "5.00 USD"],
                ])
            #expect(created.status == 201, "\(created.text)")
            let budget = try #require(created.object["budget"] as? [String: Any])
            #expect(
                budget["tokens_per_day"] as? Int == 60 && budget["per_user_price_per_month"] as? String == "5.00 USD")
            #expect(budget.count == 2)
            // The system's budget replaces BUDGET_PER_USER (1 token a day per user) for it.
            #expect(try await Self.chat(gateway, "capped", "u1").status == 200)
            #expect(try await Self.chat(gateway, "capped", "u2").status == 200)
            let refused = try await Self.chat(gateway, "capped", "u3")
            #expect(refused.status == 429)
            #expect(refused.detail?.hasPrefix("The daily token budget of 60 for this system is used up;") == true)
            let invalid = try await gateway.call(
                .PATCH, "/admin/v1/systems/capped", headers: AdminAPITests.admin,
                json: ["budget": ["price_per_month": "lots"]])
            #expect(invalid.status == 422)
            let cleared = try await gateway.call(
                .PATCH, "/admin/v1/systems/capped", headers: AdminAPITests.admin, json: ["budget": [:] as [String: Int]]
            )
            #expect(cleared.status == 200 && cleared.object["budget"] == nil)
        }
    }

    @Test(arguments: [
        "50000 tokens", "tokens/day", "2.00 usd/month", "-5 tokens/day", "2.00 USD/week", "1e3 tokens/day",
    ])
    func badBudgetsNameTheVariable(value: String) {
        #expect { try Settings.parse(environment: ["BUDGET_PER_USER": value], isProduction: false) } throws: { error in
            (error as? SettingsError)?.variable == "BUDGET_PER_USER"
        }
    }

    @Test func budgetsParse() throws {
        let limits = try BudgetLimit.parseList("50000 tokens/day, 2.00 USD/month", variable: "BUDGET_PER_USER")
        #expect(
            limits == [
                BudgetLimit(measure: .tokens, amount: 50_000, period: .day),
                BudgetLimit(measure: .price(currency: "USD"), amount: 2_000_000_000_000, period: .month),
            ])
        #expect(limits.map(\.amountText) == ["50000", "2.00 USD"])
    }
}
