import Foundation

/// Which of the five supported languages a page is shown in: the `lang` parameter, else the browser's
/// `Accept-Language` preferences in order, else English.
enum PageLanguage {
    static let fallback = "en"

    static func negotiate(requested: String?, acceptLanguage: String?) -> String {
        if let requested, let language = supported(requested) { return language }
        for tag in preferences(acceptLanguage ?? "") {
            if let language = supported(tag) { return language }
        }
        return fallback
    }

    /// The primary subtag of `tag` when it is a supported language (`ko-KR` → `ko`), else nil.
    static func supported(_ tag: String) -> String? {
        let primary =
            tag.trimmingCharacters(in: .whitespaces).lowercased()
            .split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map(String.init) ?? ""
        return WidgetStrings.supportedLanguages.contains(primary) ? primary : nil
    }

    /// `Accept-Language` tags, most preferred first (by `q`, then by position); `q=0` means "not this one".
    static func preferences(_ header: String) -> [String] {
        let weighted = header.split(separator: ",").enumerated().compactMap {
            index, item -> (tag: String, q: Double, index: Int)? in
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first, !tag.isEmpty else { return nil }
            let q = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return q > 0 ? (tag, q, index) : nil
        }
        return weighted.sorted { $0.q != $1.q ? $0.q > $1.q : $0.index < $1.index }.map(\.tag)
    }
}
