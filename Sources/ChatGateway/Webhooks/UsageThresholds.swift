import Foundation
import SQLKit

/// Tells webhooks when usage reaches 50, 80 and 100 % of a budget, once each per budget and period: run after a
/// transaction's answers are added to the usage sums, in that transaction, so the event and the ledger change
/// commit together.
struct UsageThresholds: Sendable {
    static let percents: [Int64] = [50, 80, 100]

    let budgets: BudgetsInForce
    let now: @Sendable () -> Date

    func check(_ usage: [UsageRollup.Key: UsageRollup.Counters], on sql: any SQLDatabase) async throws {
        let spenders = Set(
            usage.filter { $0.value["total_tokens"] > 0 || $0.value["price_scaled"] > 0 }
                .map { [$0.key.systemID, $0.key.userID] })
        guard !spenders.isEmpty else { return }
        let at = now()
        var systemsChecked: Set<String> = []
        for spender in spenders.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let (systemID, userID) = (spender[0], spender[1])
            let budget = budgets.budget(for: systemID)
            guard !budget.perUser.isEmpty || !budget.perSystem.isEmpty,
                let keepsContent = try await WebhookOutbox.wanted(bySystem: systemID, on: sql)
            else { continue }
            let emit = { (event: WebhookEvent) in
                try await WebhookOutbox.insert(event, keepingContent: keepsContent, at: at, on: sql)
            }
            for limit in budget.perUser {
                try await check(
                    limit, systemID: systemID, userID: userID, triggeredBy: userID, at: at, on: sql, emit: emit)
            }
            guard systemsChecked.insert(systemID).inserted else { continue }
            for limit in budget.perSystem {
                try await check(
                    limit, systemID: systemID, userID: nil, triggeredBy: userID, at: at, on: sql, emit: emit)
            }
        }
    }

    private func check(
        _ limit: BudgetLimit, systemID: String, userID: String?, triggeredBy: String, at: Date, on sql: any SQLDatabase,
        emit: (WebhookEvent) async throws -> String?
    ) async throws {
        let start = limit.period(containing: at).start
        let used = try await BudgetGuard.used(limit, systemID: systemID, userID: userID, since: start, on: sql).used
        for percent in Self.percents where Double(used) * 100 >= Double(limit.amount) * Double(percent) {
            var event = WebhookEvent.budget(
                .usageThresholdReached, limit, systemID: systemID, userID: userID, triggeredBy: triggeredBy,
                used: used, at: at)
            event.data["threshold"] = .integer(Int(percent))
            event.dedupeKey! += "|\(percent)"
            try await emit(event)
        }
    }
}

extension WebhookEvent {
    /// `budget.exceeded` or `usage.threshold_reached` of one budget in the period holding `at`; `userID` is nil for a
    /// system's budget. Deduplicated per budget and period.
    static func budget(
        _ kind: Kind, _ limit: BudgetLimit, systemID: String, userID: String?, triggeredBy: String, used: Int64,
        at: Date
    ) -> WebhookEvent {
        let (start, end) = limit.period(containing: at)
        let (measure, currency): (String, String?) =
            switch limit.measure {
            case .tokens: ("tokens", nil)
            case .price(let currency): ("price", currency)
            }
        func amount(_ value: Int64) -> JSONValue {
            measure == "tokens"
                ? .integer(Int(value)) : .string(DifyUsage.decimalText(scaled: value, minimumDecimals: 2))
        }
        return WebhookEvent(
            kind: kind, systemID: systemID, userID: triggeredBy,
            data: [
                "system_id": .string(systemID), "user_id": .text(userID),
                "budget": .object([
                    "scope": .string(userID == nil ? "system" : "user"), "measure": .string(measure),
                    "limit": amount(limit.amount), "currency": .text(currency),
                    "period": .string(limit.period.rawValue),
                ]),
                "used": amount(used), "period_start": .string(ISO8601.string(start)),
                "resets_at": .string(ISO8601.string(end)),
            ],
            dedupeKey: "\(kind.rawValue)|"
                + BudgetGuard.scope(limit, systemID: systemID, userID: userID, at: at))
    }
}
