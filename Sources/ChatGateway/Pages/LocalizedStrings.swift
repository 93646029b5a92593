/// A page's table of texts, one value per supported language (`PageLanguage` picks the language),
/// read from the `Translations` resources.
protocol LocalizedStrings {
    /// The table for a negotiated language code; English for anything else.
    static func forLanguage(_ language: String) -> Self
}

extension LocalizedStrings {
    static var english: Self { forLanguage("en") }
    static var spanish: Self { forLanguage("es") }
    static var korean: Self { forLanguage("ko") }
    static var chinese: Self { forLanguage("zh") }
    static var japanese: Self { forLanguage("ja") }
}
