import Foundation

/// A JSON value that keeps object keys in insertion order.
///
/// Dify's wire format has a documented key order (`event` first, errors as code/message/status),
/// and two encodings: orjson-compact raw UTF-8 for SSE, Python `json.dumps` style
/// (`", "`/`": "` separators, `\uXXXX` escapes) for plain HTTP JSON. `JSONEncoder` controls neither.
enum FakeDifyJSON: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([FakeDifyJSON])
    case object([(String, FakeDifyJSON)])

    enum Style: Sendable {
        /// orjson: no spaces, raw UTF-8.
        case compact
        /// Python `json.dumps` defaults: spaced separators, non-ASCII escaped.
        case python
    }

    subscript(key: String) -> FakeDifyJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    func serialized(_ style: Style = .compact) -> String {
        var out = ""
        write(to: &out, style: style)
        return out
    }

    private func write(to out: inout String, style: Style) {
        let comma = style == .compact ? "," : ", "
        let colon = style == .compact ? ":" : ": "
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .double(let d): out += Self.pythonFloat(d)
        case .string(let s): Self.writeString(s, to: &out, asciiOnly: style == .python)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += comma }
                item.write(to: &out, style: style)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += comma }
                Self.writeString(key, to: &out, asciiOnly: style == .python)
                out += colon
                value.write(to: &out, style: style)
            }
            out += "}"
        }
    }

    /// Python's float repr always shows a fraction or exponent, so a client sees a float, not an int.
    static func pythonFloat(_ d: Double) -> String {
        guard d.isFinite else { return "0.0" }
        let text = "\(d)"
        return text.contains(".") || text.contains("e") ? text : text + ".0"
    }

    private static func writeString(_ s: String, to out: inout String, asciiOnly: Bool) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || (asciiOnly && scalar.value > 0x7F) {
                    for unit in String(scalar).utf16 { out += String(format: "\\u%04x", unit) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

extension FakeDifyJSON: Decodable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
            var members: [(String, FakeDifyJSON)] = []
            for key in keyed.allKeys {
                members.append((key.stringValue, try keyed.decode(FakeDifyJSON.self, forKey: key)))
            }
            self = .object(members)
        } else if var unkeyed = try? decoder.unkeyedContainer() {
            var items: [FakeDifyJSON] = []
            while !unkeyed.isAtEnd { items.append(try unkeyed.decode(FakeDifyJSON.self)) }
            self = .array(items)
        } else {
            let single = try decoder.singleValueContainer()
            if single.decodeNil() { self = .null }
            else if let b = try? single.decode(Bool.self) { self = .bool(b) }
            else if let i = try? single.decode(Int.self) { self = .int(i) }
            else if let d = try? single.decode(Double.self) { self = .double(d) }
            else { self = .string(try single.decode(String.self)) }
        }
    }

    /// Parses a request body; nil when it is not valid JSON.
    static func parse(_ data: Data) -> FakeDifyJSON? {
        try? JSONDecoder().decode(FakeDifyJSON.self, from: data)
    }
}
