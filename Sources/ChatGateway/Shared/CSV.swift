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

    /// The header record: column names are plain identifiers, written bare as every reader of the seed's export
    /// expects them.
    static func header(_ names: [String]) -> String {
        precondition(names.allSatisfy { $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" } })
        return names.joined(separator: ",") + "\r\n"
    }

    /// One record, ended by CR LF.
    static func record(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }
}
