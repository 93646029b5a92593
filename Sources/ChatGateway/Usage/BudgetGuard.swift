import Foundation
import SQLKit

/// Refuses a chat whose user or system has used up a budget in the current UTC day or month, before Dify is
/// called, and reserves room for its answer: what was used is read from the ledger's daily sums, and each budget's
/// answers in flight are counted in `gateway_budget_holds` by one atomic upsert, so replicas on one PostgreSQL share
/// both. A chat starts only while what was used, plus an average answer for each one in flight, leaves room under
/// the limit; so parallel chats overshoot a budget by at most about one answer.
struct BudgetGuard: Sendable {
    static let holdsTable = "gateway_budget_holds"

    let budgets: BudgetsInForce
    /// Reads the daily sums.
    let database: @Sendable () -> any SQLDatabase
    /// Writes the holds, among the store's writes.
    let store: ConversationStore
    let now: @Sendable () -> Date

    struct Refusal: Error, Equatable {
        var detail: String
        var resetsAt: Date
        var retryAfter: Int
        /// `budget.exceeded`, for a budget used up (not one only taken by answers in progress).
        var event: WebhookEvent? = nil
    }

    /// Room taken for one answer in each budget that applies; `release` gives it back once the answer is stored.
    struct Hold: Sendable {
        fileprivate let scopes: [String]
    }

    func budget(for systemID: String) -> SystemBudget { budgets.budget(for: systemID) }

    /// Reserves room for one answer of `caller` in every budget that applies, or throws the `Refusal` of the first
    /// that has none; nil when no budget applies.
    func reserve(for caller: CallerIdentity) async throws -> Hold? {
        let budget = budget(for: caller.systemID)
        guard !budget.perUser.isEmpty || !budget.perSystem.isEmpty else { return nil }
        let at = now()
        var taken: [String] = []
        do {
            for (limits, user) in [(budget.perUser, caller.userID as String?), (budget.perSystem, nil)] {
                for limit in limits {
                    let (start, end) = limit.period(containing: at)
                    let usage = try await Self.used(
                        limit, systemID: caller.systemID, userID: user, since: start, on: database())
                    if usage.used >= limit.amount {
                        throw refusal(limit, caller: caller, user: user, used: usage.used, at: at, inFlight: false)
                    }
                    // Without an answer yet this period, an answer may take the whole limit: one at a time.
                    let estimate = usage.answers > 0 ? max(1, usage.used / usage.answers) : limit.amount
                    let scope = Self.scope(limit, systemID: caller.systemID, userID: user, at: at)
                    guard
                        let inFlight = try await hold(
                            scope, used: usage.used, estimate: estimate, limit: limit.amount, until: end)
                    else { throw refusal(limit, caller: caller, user: user, used: usage.used, at: at, inFlight: true) }
                    taken.append(scope)
                    // An answer stored between the read and the hold left the holds but was not in `used` yet: read
                    // again, counting it twice at worst, so a stale read never lets a chat through.
                    let usedNow = try await Self.used(
                        limit, systemID: caller.systemID, userID: user, since: start, on: database()
                    ).used
                    guard usedNow + (inFlight - 1) * estimate < limit.amount else {
                        throw refusal(
                            limit, caller: caller, user: user, used: usedNow, at: at, inFlight: usedNow < limit.amount)
                    }
                }
            }
        } catch {
            // A refusal or a failure part-way gives back what the budgets before it took.
            await release(Hold(scopes: taken))
            throw error
        }
        return Hold(scopes: taken)
    }

    /// Gives back what `reserve` took; never fails the chat, whose answer is stored by then.
    func release(_ hold: Hold?) async {
        guard let scopes = hold?.scopes, !scopes.isEmpty else { return }
        try? await store.write("budget release") { sql in
            for scope in scopes {
                try await sql.raw(
                    "UPDATE \(ident: Self.holdsTable) SET in_flight = in_flight - 1 WHERE scope = \(bind: scope) AND in_flight > 0"
                ).run()
            }
        }
    }

    /// One more answer in flight against `scope`, if what was used plus an estimate for each in flight (this one
    /// included) stays under the limit, or none is in flight yet. One statement, so concurrent chats on any replica
    /// each see the others' holds. Holds untouched for `staleAfter` are those of a process that died mid-answer.
    /// The answers in flight against `scope` with this one, or nil when there is no room.
    private func hold(
        _ scope: String, used: Int64, estimate: Int64, limit: Int64, until end: Date
    ) async throws -> Int64? {
        let at = now().timeIntervalSince1970
        let stale = at - Self.staleAfter
        let room = (limit - used + estimate - 1) / estimate
        // Holds of ended periods are no use to anyone: removed now and then.
        let sweep = Int.random(in: 0..<100) == 0
        return try await store.write("budget hold") { sql in
            if sweep { try await sql.raw("DELETE FROM \(ident: Self.holdsTable) WHERE period_end < \(bind: at)").run() }
            return try await sql.raw(
                """
                INSERT INTO \(ident: Self.holdsTable) AS h (scope, in_flight, period_end, updated_at) \
                VALUES (\(bind: scope), 1, \(bind: end.timeIntervalSince1970), \(bind: at)) \
                ON CONFLICT (scope) DO UPDATE SET \
                in_flight = CASE WHEN h.updated_at < \(bind: stale) THEN 1 ELSE h.in_flight + 1 END, \
                updated_at = \(bind: at) \
                WHERE h.updated_at < \(bind: stale) OR h.in_flight < \(bind: room) \
                RETURNING in_flight
                """
            ).first()?.decode(column: "in_flight", as: Int64.self)
        }
    }

    /// Longer than any answer takes (`DIFY_TIMEOUT` is at most 600 s).
    static let staleAfter: TimeInterval = 15 * 60

    private func refusal(
        _ limit: BudgetLimit, caller: CallerIdentity, user: String?, used: Int64, at: Date, inFlight: Bool
    ) -> Refusal {
        let end = limit.period(containing: at).end
        let reset = ISO8601.wholeSeconds(end)
        let whose = user == nil ? "this system" : "this user"
        let what =
            switch limit.measure {
            case .tokens: "\(limit.period.adjective) token budget of \(limit.amountText)"
            case .price: "\(limit.period.adjective) budget of \(limit.amountText)"
            }
        if inFlight {
            return Refusal(
                detail: "The \(what) for \(whose) is taken by answers in progress; try again when they finish",
                resetsAt: end, retryAfter: 2)
        }
        return Refusal(
            detail: "The \(what) for \(whose) is used up; it resets at \(reset)", resetsAt: end,
            retryAfter: max(1, Int(end.timeIntervalSince(at).rounded(.up))),
            event: .budget(
                .budgetExceeded, limit, systemID: caller.systemID, userID: user, triggeredBy: caller.userID, used: used,
                at: at))
    }

    /// `user|drillquiz|u1|tokens|day|1733529600`: one budget of one user (or system) in the period holding `at`.
    static func scope(_ limit: BudgetLimit, systemID: String, userID: String?, at: Date) -> String {
        let start = limit.period(containing: at).start
        let measure =
            switch limit.measure {
            case .tokens: "tokens"
            case .price(let currency): "price:\(currency)"
            }
        let whose = userID.map { "user|\(systemID)|\($0)" } ?? "system|\(systemID)"
        return "\(whose)|\(measure)|\(limit.period.rawValue)|\(Int(start.timeIntervalSince1970))"
    }

    /// Tokens, or the price × 10¹² in the limit's currency, of the answers since `start`, and how many answers
    /// there were: the period's rows of the daily sums (a user's, or the system's).
    static func used(
        _ limit: BudgetLimit, systemID: String, userID: String?, since start: Date, on sql: any SQLDatabase
    ) async throws -> (used: Int64, answers: Int64) {
        let column = limit.measure == .tokens ? "total_tokens" : "price_scaled"
        var select = sql.select()
            .column(SQLAlias(UsageRollup.sum(column), as: "used"))
            .column(SQLAlias(UsageRollup.sum("completed"), as: "answers"))
            .from(userID == nil ? UsageRollup.systemsTable : UsageRollup.usersTable)
            .where("day", .greaterThanOrEqual, SQLBind(UsageRollup.day(of: start)))
            .where("system_id", .equal, SQLBind(systemID))
        if let userID { select = select.where("user_id", .equal, SQLBind(userID)) }
        if case .price(let currency) = limit.measure { select = select.where("currency", .equal, SQLBind(currency)) }
        guard let row = try await select.first() else { return (0, 0) }
        return (
            try row.decode(column: "used", as: Int64?.self) ?? 0,
            try row.decode(column: "answers", as: Int64?.self) ?? 0
        )
    }
}
