import Foundation

/// The page and widget texts of the five supported languages: one JSON resource per language,
/// `Resources/i18n/<code>.json`, holding the sections `chat` (`PageStrings`), `history`
/// (`HistoryPageStrings`), `widget` (`WidgetStrings`), `admin` (`AdminPageStrings`) and `usage` (`UsagePageStrings`) under the structs' own key names.
/// Decoded once, on first use; a missing or broken file is a programming error.
struct Translations: Sendable {
    /// One language's file.
    struct Language: Codable, Equatable, Sendable {
        var chat: PageStrings
        var history: HistoryPageStrings
        var widget: WidgetStrings
        var admin: AdminPageStrings
        var usage: UsagePageStrings
    }

    static let shared = Translations(directory: APIDocsController.resourceDirectory + "i18n/")

    /// Every supported language, by code (`WidgetStrings.supportedLanguages`).
    let languages: [String: Language]

    init(directory: String) {
        languages = Dictionary(
            uniqueKeysWithValues: WidgetStrings.supportedLanguages.map { code -> (String, Language) in
                let file = directory + code + ".json"
                guard let data = FileManager.default.contents(atPath: file) else {
                    preconditionFailure("The translations resource \(file) is missing")
                }
                do {
                    return (code, try JSONDecoder().decode(Language.self, from: data))
                } catch {
                    preconditionFailure("The translations resource \(file) does not decode: \(error)")
                }
            })
    }

    /// The file for a language code (`en`, `es`, `ko`, `zh`, `ja`); English for anything else.
    func language(_ code: String) -> Language {
        languages[code] ?? languages[PageLanguage.fallback]!
    }

    func chat(for language: String) -> PageStrings { self.language(language).chat }
    func history(for language: String) -> HistoryPageStrings { self.language(language).history }
    func widget(for language: String) -> WidgetStrings { self.language(language).widget }
    func usage(for language: String) -> UsagePageStrings { self.language(language).usage }
}
