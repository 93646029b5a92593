import Foundation

/// A JSON value that keeps object keys in insertion order.
///
/// Dify's wire format has a documented key order (`event` first, errors as code/message/status),
/// and two encodings: orjson-compact raw UTF-8 for SSE, Python `json.dumps` style
/// (`", "`/`": "` separators, `\uXXXX` escapes) for plain HTTP JSON. `JSONEncoder` controls neither.
/// Public so a test or the demo can give an option Dify's own JSON (e.g. `FakeDifyOptions.fileUpload`).
public enum FakeDifyJSON: Sendable {
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
        String(decoding: bytes(style), as: UTF8.self)
    }

    /// The UTF-8 text, written byte by byte: building it as a `String` scalar by scalar was most of the fake's CPU
    /// with a thousand streams open.
    func bytes(_ style: Style = .compact) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, style: style)
        return out
    }

    func write(to out: inout [UInt8], style: Style) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .double(let d): out.append(contentsOf: Self.pythonFloat(d).utf8)
        case .string(let s): Self.writeString(s, to: &out, asciiOnly: style == .python)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { Self.writeSeparator(",", to: &out, style: style) }
                item.write(to: &out, style: style)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { Self.writeSeparator(",", to: &out, style: style) }
                Self.writeString(key, to: &out, asciiOnly: style == .python)
                Self.writeSeparator(":", to: &out, style: style)
                value.write(to: &out, style: style)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeSeparator(_ separator: Unicode.Scalar, to out: inout [UInt8], style: Style) {
        out.append(UInt8(ascii: separator))
        if style == .python { out.append(UInt8(ascii: " ")) }
    }

    /// Python's float repr always shows a fraction or exponent, so a client sees a float, not an int.
    static func pythonFloat(_ d: Double) -> String {
        guard d.isFinite else { return "0.0" }
        let text = "\(d)"
        return text.contains(".") || text.contains("e") ? text : text + ".0"
    }

    private static func writeString(_ s: String, to out: inout [UInt8], asciiOnly: Bool) {
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: #"\""#.utf8)
            case "\\": out.append(contentsOf: #"\\"#.utf8)
            case "\n": out.append(contentsOf: #"\n"#.utf8)
            case "\r": out.append(contentsOf: #"\r"#.utf8)
            case "\t": out.append(contentsOf: #"\t"#.utf8)
            case "\u{08}": out.append(contentsOf: #"\b"#.utf8)
            case "\u{0C}": out.append(contentsOf: #"\f"#.utf8)
            default:
                if scalar.value < 0x20 || (asciiOnly && scalar.value > 0x7F) {
                    UTF16.encode(scalar) { unit in writeUnicodeEscape(unit, to: &out) }
                } else if scalar.isASCII {
                    out.append(UInt8(scalar.value))
                } else {
                    UTF8.encode(scalar) { out.append($0) }
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `\u00e9`: lower-case hex, as Python writes it.
    private static func writeUnicodeEscape(_ unit: UInt16, to out: inout [UInt8]) {
        out.append(contentsOf: #"\u"#.utf8)
        for shift in stride(from: 12, through: 0, by: -4) { out.append(hexDigits[Int((unit >> UInt16(shift)) & 0xF)]) }
    }
}

extension FakeDifyJSON: Decodable {
    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
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
            if single.decodeNil() {
                self = .null
            } else if let b = try? single.decode(Bool.self) {
                self = .bool(b)
            } else if let i = try? single.decode(Int.self) {
                self = .int(i)
            } else if let d = try? single.decode(Double.self) {
                self = .double(d)
            } else {
                self = .string(try single.decode(String.self))
            }
        }
    }

    /// Parses a request body; nil when it is not valid JSON.
    static func parse(_ data: Data) -> FakeDifyJSON? {
        try? JSONDecoder().decode(FakeDifyJSON.self, from: data)
    }
}
