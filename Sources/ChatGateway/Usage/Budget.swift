import Foundation
import Vapor

/// One cap on what Dify's answers may cost within a UTC calendar day or month: tokens, or a price in one currency.
struct BudgetLimit: Sendable, Equatable {
    enum Measure: Sendable, Equatable {
        case tokens
        case price(currency: String)
    }
    enum Period: String, Sendable, Equatable {
        case day, month

        var adjective: String { self == .day ? "daily" : "monthly" }
    }

    var measure: Measure
    /// Tokens, or the price × 10¹² (`DifyUsage.priceScale`).
    var amount: Int64
    var period: Period

    /// `50000 tokens`, `2.00 USD`: the amount as written in messages.
    var amountText: String {
        switch measure {
        case .tokens: String(amount)
        case .price(let currency): "\(DifyUsage.decimalText(scaled: amount, minimumDecimals: 2)) \(currency)"
        }
    }

    /// `50000 tokens/day`, `2.00 USD/month`; nil when `raw` is not one.
    init?(parsing raw: String) {
        let parts = raw.trimmingCharacters(in: .whitespaces).split(separator: "/")
        guard parts.count == 2,
            let period = Period(rawValue: parts[1].trimmingCharacters(in: .whitespaces).lowercased())
        else { return nil }
        let words = parts[0].split(separator: " ", omittingEmptySubsequences: true)
        guard words.count == 2 else { return nil }
        if words[1].lowercased() == "tokens", let tokens = Int64(words[0]), tokens > 0 {
            self.init(measure: .tokens, amount: tokens, period: period)
        } else if GatewayMetrics.isCurrencyCode(String(words[1])), let scaled = DifyUsage.scaled(String(words[0])),
            scaled > 0
        {
            self.init(measure: .price(currency: String(words[1])), amount: scaled, period: period)
        } else {
            return nil
        }
    }

    init(measure: Measure, amount: Int64, period: Period) {
        self.measure = measure
        self.amount = amount
        self.period = period
    }

    /// A comma list of limits (`BUDGET_PER_USER`); an error names `variable`.
    static func parseList(_ raw: String, variable: String) throws -> [BudgetLimit] {
        try raw.split(separator: ",").map { item in
            guard let limit = BudgetLimit(parsing: String(item)) else {
                throw SettingsError(
                    variable: variable,
                    problem:
                        "expected limits such as \"50000 tokens/day\" or \"2.00 USD/month\", got \"\(item.trimmingCharacters(in: .whitespaces))\""
                )
            }
            return limit
        }
    }

    /// The UTC calendar period holding `date`: its start and the start of the next one.
    func period(containing date: Date) -> (start: Date, end: Date) {
        let calendar = Calendar.utc
        switch period {
        case .day:
            let start = calendar.startOfDay(for: date)
            return (start, calendar.date(byAdding: .day, value: 1, to: start)!)
        case .month:
            let start = calendar.date(from: calendar.dateComponents([.year, .month], from: date))!
            return (start, calendar.date(byAdding: .month, value: 1, to: start)!)
        }
    }
}

/// Which budgets apply to a system.
struct BudgetsInForce: Sendable {
    /// `BUDGET_PER_USER`, for systems without a budget of their own.
    let perUser: [BudgetLimit]
    let registry: GatewayRegistry?

    /// The system's own budget when the admin API gave it one, else `BUDGET_PER_USER` per user.
    func budget(for systemID: String) -> SystemBudget {
        registry?.systemInForce(systemID)?.budget ?? SystemBudget(perUser: perUser)
    }
}

/// The budgets of one system: per user, and for the whole system.
struct SystemBudget: Sendable, Equatable {
    var perUser: [BudgetLimit] = []
    var perSystem: [BudgetLimit] = []
}

/// A system's `budget` as the admin API takes and shows it (and as `gateway_systems.budget` keeps it, as JSON):
/// prices as `"2.00 USD"`. An object with no field removes the budget.
struct SystemBudgetFields: Content, Equatable {
    var tokensPerDay: Int64?
    var pricePerMonth: String?
    var perUserTokensPerDay: Int64?
    var perUserPricePerMonth: String?

    enum CodingKeys: String, CodingKey {
        case tokensPerDay = "tokens_per_day", pricePerMonth = "price_per_month"
        case perUserTokensPerDay = "per_user_tokens_per_day", perUserPricePerMonth = "per_user_price_per_month"
    }

    var isEmpty: Bool { self == SystemBudgetFields() }

    /// The limits, or the field at fault.
    func budget() throws(AdminError) -> SystemBudget {
        func tokens(_ value: Int64?, _ field: String) throws(AdminError) -> BudgetLimit? {
            guard let value else { return nil }
            guard value > 0 else { throw .invalid("budget.\(field) must be a positive number of tokens") }
            return BudgetLimit(measure: .tokens, amount: value, period: .day)
        }
        func price(_ value: String?, _ field: String) throws(AdminError) -> BudgetLimit? {
            guard let value else { return nil }
            guard let limit = BudgetLimit(parsing: value + "/month"), case .price = limit.measure else {
                throw .invalid("budget.\(field) must be an amount and a currency, such as \"2.00 USD\"")
            }
            return limit
        }
        return SystemBudget(
            perUser: [
                try tokens(perUserTokensPerDay, "per_user_tokens_per_day"),
                try price(perUserPricePerMonth, "per_user_price_per_month"),
            ].compactMap { $0 },
            perSystem: [try tokens(tokensPerDay, "tokens_per_day"), try price(pricePerMonth, "price_per_month")]
                .compactMap { $0 })
    }
}
