/// Every text of the operators' usage view (`GET /cache/usage`), in the five supported languages (the `usage`
/// section of `Resources/i18n/<code>.json`). The page's script receives the whole table as JSON; `{name}` marks a
/// value the script fills in.
struct UsagePageStrings: Codable, Equatable, Sendable, LocalizedStrings {
    var title: String
    var conversationsLink: String
    var usageLink: String
    var period: String
    var last7: String
    var last30: String
    var last90: String
    var custom: String
    var fromDate: String
    var toDate: String
    var system: String
    var allSystems: String
    var show: String
    var downloadCSV: String
    var chatsPerDay: String
    var tokensPerDay: String
    var costPerDay: String
    var failureRate: String
    var latency: String
    var p50: String
    var p95: String
    var topUsers: String
    var user: String
    var day: String
    var chats: String
    var tokens: String
    var cost: String
    var failedOrRefused: String
    var noData: String
    var loading: String
    var loadFailed: String
    var figures: String
    var unitChats: String
    var unitTokens: String
    var unitPercent: String
    var unitMS: String
    var unknownUsage: String
    var totals: String

    static func forLanguage(_ language: String) -> UsagePageStrings { Translations.shared.usage(for: language) }
}
