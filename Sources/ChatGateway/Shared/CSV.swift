/// RFC 4180 records that a spreadsheet opens as text: every field is quoted, so no CR, LF, comma or quote inside
/// one can end it, and a field whose first Unicode scalar would start a formula gets a leading `'`.
enum CSV {
    /// `=`, `+`, `-`, `@`, tab, CR and LF: what spreadsheets read as the start of a formula or strip before one.
    static let formulaStarters: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\t", "\r", "\n"]

    static func field(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, formulaStarters.contains(first) { text = "'" + text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// One record, ended by CR LF.
    static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }
}
