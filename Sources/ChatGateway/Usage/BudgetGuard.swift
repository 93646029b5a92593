import Foundation
import SQLKit

/// Refuses a chat whose user or system has used up a budget in the current UTC day or month, before Dify is
/// called. What was used is read from the ledger's daily sums in the database, so replicas on one PostgreSQL share the budgets;
/// a turn already running may end over the line, and the next one is refused.
struct BudgetGuard: Sendable {
    /// `BUDGET_PER_USER`, for systems without a budget of their own.
    let perUser: [BudgetLimit]
    let registry: GatewayRegistry?
    let database: @Sendable () -> any SQLDatabase
    let now: @Sendable () -> Date

    struct Refusal: Error, Equatable {
        var detail: String
        var resetsAt: Date
        var retryAfter: Int
    }

    /// The system's own budget when the admin API gave it one, else `BUDGET_PER_USER` per user.
    func budget(for systemID: String) -> SystemBudget {
        registry?.systemInForce(systemID)?.budget ?? SystemBudget(perUser: perUser)
    }

    /// The first limit `caller` has used up, if any.
    func refusal(for caller: CallerIdentity) async throws -> Refusal? {
        let budget = budget(for: caller.systemID)
        guard !budget.perUser.isEmpty || !budget.perSystem.isEmpty else { return nil }
        let at = now()
        for (limits, user) in [(budget.perUser, caller.userID as String?), (budget.perSystem, nil)] {
            for limit in limits {
                let (start, end) = limit.period(containing: at)
                guard try await used(limit, systemID: caller.systemID, userID: user, since: start) >= limit.amount
                else { continue }
                let reset = ISO8601.wholeSeconds(end)
                let whose = user == nil ? "this system" : "this user"
                let what =
                    switch limit.measure {
                    case .tokens: "\(limit.period.adjective) token budget of \(limit.amountText)"
                    case .price: "\(limit.period.adjective) budget of \(limit.amountText)"
                    }
                return Refusal(
                    detail: "The \(what) for \(whose) is used up; it resets at \(reset)", resetsAt: end,
                    retryAfter: max(1, Int(end.timeIntervalSince(at).rounded(.up))))
            }
        }
        return nil
    }

    /// Tokens, or the price × 10¹² in the limit's currency, of the answers since `start`: the period's rows of the
    /// daily sums (a user's, or the system's).
    private func used(_ limit: BudgetLimit, systemID: String, userID: String?, since start: Date) async throws -> Int64
    {
        let column = limit.measure == .tokens ? "total_tokens" : "price_scaled"
        var select = database().select()
            .column(SQLAlias(UsageRollup.sum(column), as: "used"))
            .from(userID == nil ? UsageRollup.systemsTable : UsageRollup.usersTable)
            .where("day", .greaterThanOrEqual, SQLBind(UsageRollup.day(of: start)))
            .where("system_id", .equal, SQLBind(systemID))
        if let userID { select = select.where("user_id", .equal, SQLBind(userID)) }
        if case .price(let currency) = limit.measure { select = select.where("currency", .equal, SQLBind(currency)) }
        return try await select.first()?.decode(column: "used", as: Int64.self) ?? 0
    }
}
