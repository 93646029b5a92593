/// A page's table of texts, one value per supported language (`PageLanguage` picks the language).
protocol LocalizedStrings {
    static var english: Self { get }
    static var spanish: Self { get }
    static var korean: Self { get }
    static var chinese: Self { get }
    static var japanese: Self { get }
}

extension LocalizedStrings {
    /// The table for a negotiated language code; English for anything else.
    static func forLanguage(_ language: String) -> Self {
        switch language {
        case "es": spanish
        case "ko": korean
        case "zh": chinese
        case "ja": japanese
        default: english
        }
    }
}
