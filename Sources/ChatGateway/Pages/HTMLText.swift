/// Escaping for text placed in HTML, in element content or in a double-quoted attribute value.
/// Everything the page renders from a request (strings, language, the token) goes through here.
enum HTMLText {
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}

/// A page's table of strings, HTML-escaped, read by the same names (`escaped.title`): views interpolate
/// these and never the raw strings.
@dynamicMemberLookup
struct HTMLEscaped<Strings> {
    let strings: Strings
    init(_ strings: Strings) { self.strings = strings }
    subscript(dynamicMember key: KeyPath<Strings, String>) -> String { HTMLText.escape(strings[keyPath: key]) }
}
