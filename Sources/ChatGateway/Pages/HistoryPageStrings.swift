/// Every text of the operators' history page (`GET /cache`), in the five supported languages (the
/// `history` section of `Resources/i18n/<code>.json`). The page's script receives the whole table as
/// JSON; `{name}` marks a value the script fills in.
struct HistoryPageStrings: Codable, Equatable, Sendable, LocalizedStrings {
    var title: String
    // Sign-in.
    var signInIntro: String
    var apiKey: String
    var signIn: String
    var wrongKey: String
    var crossSite: String
    var sessionEnded: String
    /// A valid key that serves only some systems (or only chat tokens).
    var keyTooNarrow: String
    var signOut: String
    // Filters.
    var filters: String
    var system: String
    var user: String
    var fromDate: String
    var toDate: String
    var text: String
    var textPlaceholder: String
    var apply: String
    var clear: String
    // Results.
    var conversations: String
    var conversation: String
    var created: String
    var updated: String
    var untitled: String
    var deleted: String
    /// `{first}`, `{last}`, `{total}`.
    var range: String
    var noResults: String
    var pages: String
    var previous: String
    var next: String
    var export: String
    var exportCSV: String
    var exportJSONL: String
    // Sync.
    var syncNow: String
    var syncing: String
    /// `{users}`, `{conversations}`, `{messages}`.
    var syncDone: String
    /// `{count}`.
    var syncErrors: String
    var syncFailed: String
    // A conversation.
    var close: String
    var roleUser: String
    var roleAssistant: String
    var statusFailed: String
    var statusStopped: String
    var statusStreaming: String
    var statusPending: String
    var statusRefused: String
    var noMessages: String
    var loading: String
    var loadFailed: String
    // Regenerated answers, sources and files.
    /// `{n}`, `{total}`: which attempt at a question asked more than once an answer is.
    var attempt: String
    /// On a question asked again.
    var askedAgain: String
    /// `{count}`: the summary of an answer's collapsible source list.
    var sources: String
    /// `{score}`: a source's relevance, as Dify scored it.
    var sourceScore: String
    var files: String
    // The answers' renderer: a code block's copy button and a reasoning block.
    var copyCode: String
    var copied: String
    var reasoning: String

    static func forLanguage(_ language: String) -> HistoryPageStrings { Translations.shared.history(for: language) }
}
