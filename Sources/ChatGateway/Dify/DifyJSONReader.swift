import Foundation

extension [String: JSONValue] {
    /// The member as a string; missing or another JSON type is `nil`.
    func stringMember(_ key: String) -> String? {
        guard case .string(let value)? = self[key] else { return nil }
        return value
    }

    /// The member unless it is missing or JSON `null` (Dify's `metadata`).
    func nonNullMember(_ key: String) -> JSONValue? {
        self[key].flatMap { $0 == .null ? nil : $0 }
    }

    /// The member as an integer: a JSON number (truncated) or a string of digits; anything else is `nil`.
    func intMember(_ key: String) -> Int? {
        switch self[key] {
        case .number(let value)? where value.isFinite && abs(value) < 9_007_199_254_740_992: Int(value)
        case .string(let text)?: Int(text)
        default: nil
        }
    }
}

/// A strict JSON (RFC 8259) reader from UTF-8 bytes straight to `JSONValue`, for Dify's stream events and
/// blocking answers.
///
/// `JSONDecoder` into `JSONValue` finds each value's type by trial and error, paying for a thrown
/// `DecodingError` per failed guess, which made it the dominant cost of a stream (about 60 µs for a small
/// `message_end` even optimised) and about 6 % of the gateway's CPU per blocking chat (its `metadata`). This
/// reader makes one pass over the bytes. Like `JSONDecoder` it rejects invalid UTF-8, lone surrogate escapes,
/// control characters in strings, trailing text and out-of-range numbers; it also rejects nesting deeper than
/// `maxDepth` (stricter than `JSONDecoder`'s 512), which bounds its recursion.
enum DifyJSONReader {
    static let maxDepth = 256

    /// The JSON text in `bytes`, or nil when it is not valid JSON.
    static func parse(_ bytes: some Collection<UInt8>) -> JSONValue? {
        bytes.withContiguousStorageIfAvailable { parse($0) } ?? Array(bytes).withUnsafeBufferPointer { parse($0) }
    }

    private struct Invalid: Error {}

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var reader = Reader(bytes: bytes)
        do {
            reader.skipWhitespace()
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            return reader.index == bytes.count ? value : nil
        } catch {
            return nil
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// The byte at `index`, or 0 at the end (NUL is never valid where this is looked at).
        private var current: UInt8 { index < bytes.count ? bytes[index] : 0 }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(Invalid) -> JSONValue {
            switch current {
            case UInt8(ascii: "{"): return try object(depth: depth + 1)
            case UInt8(ascii: "["): return try array(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
            default: throw Invalid()
            }
        }

        private mutating func object(depth: Int) throws(Invalid) -> JSONValue {
            guard depth <= DifyJSONReader.maxDepth else { throw Invalid() }
            index += 1  // {
            var members: [String: JSONValue] = [:]
            skipWhitespace()
            if current == UInt8(ascii: "}") {
                index += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw Invalid() }
                let key = try string()
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw Invalid() }
                index += 1
                skipWhitespace()
                members[key] = try value(depth: depth)
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"): index += 1; return .object(members)
                default: throw Invalid()
                }
            }
        }

        private mutating func array(depth: Int) throws(Invalid) -> JSONValue {
            guard depth <= DifyJSONReader.maxDepth else { throw Invalid() }
            index += 1  // [
            var items: [JSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") {
                index += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try value(depth: depth))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"): index += 1; return .array(items)
                default: throw Invalid()
                }
            }
        }

        private mutating func literal(_ word: StaticString) throws(Invalid) {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { throw Invalid() }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw Invalid() }
            index += count
        }

        private mutating func number() throws(Invalid) -> JSONValue {
            let start = index
            if current == UInt8(ascii: "-") { index += 1 }
            switch current {
            case UInt8(ascii: "0"): index += 1
            case UInt8(ascii: "1")...UInt8(ascii: "9"): skipDigits()
            default: throw Invalid()
            }
            if current == UInt8(ascii: ".") {
                index += 1
                guard skipDigits() else { throw Invalid() }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard skipDigits() else { throw Invalid() }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            guard let number = Double(text), number.isFinite else { throw Invalid() }
            return .number(number)
        }

        /// Skips digits; `false` if there was none.
        @discardableResult
        private mutating func skipDigits() -> Bool {
            let start = index
            while (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(current) { index += 1 }
            return index > start
        }

        private mutating func string() throws(Invalid) -> String {
            index += 1  // opening quote
            let start = index
            // Fast path: no escapes.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let text = try Self.validated(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                    index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw Invalid() }
                index += 1
            }
            var decoded = Array(bytes[start..<index])
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: decoded, as: UTF8.self) else { throw Invalid() }
                    return text
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { throw Invalid() }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                    case UInt8(ascii: "b"): decoded.append(0x08)
                    case UInt8(ascii: "f"): decoded.append(0x0C)
                    case UInt8(ascii: "n"): decoded.append(0x0A)
                    case UInt8(ascii: "r"): decoded.append(0x0D)
                    case UInt8(ascii: "t"): decoded.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try hex4()
                        if (0xD800...0xDBFF).contains(code) {
                            // A high surrogate must be followed by an escaped low one.
                            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"),
                                bytes[index + 1] == UInt8(ascii: "u")
                            else { throw Invalid() }
                            index += 2
                            let low = try hex4()
                            guard (0xDC00...0xDFFF).contains(low) else { throw Invalid() }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(code) {
                            throw Invalid()
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw Invalid() }
                        UTF8.encode(scalar) { decoded.append($0) }
                    default:
                        throw Invalid()
                    }
                default:
                    guard byte >= 0x20 else { throw Invalid() }
                    decoded.append(byte)
                }
            }
            throw Invalid()  // no closing quote
        }

        private mutating func hex4() throws(Invalid) -> UInt32 {
            guard bytes.count - index >= 4 else { throw Invalid() }
            var code: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw Invalid()
                }
                code = code << 4 | UInt32(digit)
                index += 1
            }
            return code
        }

        private static func validated(_ utf8: UnsafeBufferPointer<UInt8>) throws(Invalid) -> String {
            guard let text = String(validating: utf8, as: UTF8.self) else { throw Invalid() }
            return text
        }
    }
}
