/// The widget shell's strings (`ui` in `/v1/chat-token?lang=`), in the five supported languages (the
/// `widget` section of `Resources/i18n/<code>.json`).
struct WidgetStrings: Codable, Equatable, Sendable {
    var title: String
    var close: String
    var open: String
    var tokenError: String
    var loading: String

    static let supportedLanguages = ["en", "es", "ko", "zh", "ja"]

    /// `ko`, `ko-KR` and `KO` all mean Korean; anything unsupported falls back to English.
    static func language(for tag: String) -> String {
        let primary = tag.lowercased().split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init) ?? ""
        return supportedLanguages.contains(primary) ? primary : "en"
    }

    static func forLanguage(_ tag: String) -> WidgetStrings {
        Translations.shared.widget(for: language(for: tag))
    }
}
