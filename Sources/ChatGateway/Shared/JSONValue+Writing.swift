import Foundation
import NIOCore

/// JSON text for a `JSONValue`, written straight into a buffer.
///
/// Why not `JSONEncoder`: every blocking answer, every stream event and every request to Dify is a `JSONValue`
/// tree, and encoding one through `Encodable` (boxing each value, a container per object) was ~5 % of the
/// gateway's CPU per chat. The text is what `JSONEncoder` writes with `.withoutEscapingSlashes` (and
/// `.sortedKeys` when asked): the same escapes, integers without a fraction, other numbers in Swift's shortest
/// round-trip form. A number that is not finite, which JSON cannot hold, is written as `null`.
extension JSONValue {
    func write(into buffer: inout ByteBuffer, sortedKeys: Bool = false) {
        switch self {
        case .null: buffer.writeStaticString("null")
        case .bool(let value): buffer.writeStaticString(value ? "true" : "false")
        case .number(let value): Self.writeNumber(value, into: &buffer)
        case .string(let value): Self.writeString(value, into: &buffer)
        case .array(let items):
            buffer.writeInteger(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { buffer.writeInteger(UInt8(ascii: ",")) }
                item.write(into: &buffer, sortedKeys: sortedKeys)
            }
            buffer.writeInteger(UInt8(ascii: "]"))
        case .object(let members):
            buffer.writeInteger(UInt8(ascii: "{"))
            var first = true
            let keys = sortedKeys ? members.keys.sorted() : Array(members.keys)
            for key in keys {
                if !first { buffer.writeInteger(UInt8(ascii: ",")) }
                first = false
                Self.writeString(key, into: &buffer)
                buffer.writeInteger(UInt8(ascii: ":"))
                members[key]!.write(into: &buffer, sortedKeys: sortedKeys)
            }
            buffer.writeInteger(UInt8(ascii: "}"))
        }
    }

    /// The JSON text in a new buffer.
    func jsonBuffer(sortedKeys: Bool = false, allocator: ByteBufferAllocator = .init()) -> ByteBuffer {
        var buffer = allocator.buffer(capacity: 256)
        write(into: &buffer, sortedKeys: sortedKeys)
        return buffer
    }

    private static func writeNumber(_ value: Double, into buffer: inout ByteBuffer) {
        guard value.isFinite else { buffer.writeStaticString("null"); return }
        // Integers stay integral on the wire (token counts, timestamps), as `encode(to:)` does.
        if value.rounded() == value, abs(value) < 9_007_199_254_740_992 {
            buffer.writeString(String(Int64(value)))
        } else {
            // Swift's shortest round-trip text, without the `.0` of a whole number, as `JSONEncoder` writes it.
            let text = value.description
            buffer.writeString(text.hasSuffix(".0") ? String(text.dropLast(2)) : text)
        }
    }

    private static func writeString(_ value: String, into buffer: inout ByteBuffer) {
        var value = value
        value.makeContiguousUTF8()  // free for native strings; a bridged one is copied once
        buffer.writeInteger(UInt8(ascii: "\""))
        value.utf8.withContiguousStorageIfAvailable { bytes in
            // Runs of bytes that need no escape are copied at once.
            let raw = UnsafeRawBufferPointer(bytes)
            var start = 0
            for (index, byte) in bytes.enumerated()
            where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[start..<index]))
                writeEscape(byte, into: &buffer)
                start = index + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[start...]))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    private static func writeEscape(_ byte: UInt8, into buffer: inout ByteBuffer) {
        switch byte {
        case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
        case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
        case 0x08: buffer.writeStaticString("\\b")
        case 0x0C: buffer.writeStaticString("\\f")
        case 0x0A: buffer.writeStaticString("\\n")
        case 0x0D: buffer.writeStaticString("\\r")
        case 0x09: buffer.writeStaticString("\\t")
        default:
            buffer.writeStaticString("\\u00")
            buffer.writeString(CollectionOfOne(byte).lowercaseHex)
        }
    }
}

extension JSONValue {
    /// The JSON text, keys sorted: how a JSON column holds it.
    var jsonText: String { String(buffer: jsonBuffer(sortedKeys: true)) }

    /// A list column's text: nil for an empty list, so the column says "none" the one way.
    static func columnText(ofList items: [JSONValue]?) -> String? {
        guard let items, !items.isEmpty else { return nil }
        return JSONValue.array(items).jsonText
    }

    /// What a list column holds ([] for none, or for text that is not a JSON array).
    static func list(inColumn text: String?) -> [JSONValue] {
        guard let text, case .array(let items)? = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        else { return [] }
        return items
    }
}
