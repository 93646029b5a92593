import Foundation
import NIOCore
import Testing

@testable import ChatGateway

/// `JSONValue.write(into:)` writes what `JSONEncoder` wrote before it, byte for byte.
@Suite("JSON writing", .hangLimit)
struct JSONValueWritingTests {
    static let samples: [JSONValue] = [
        .null, .bool(true), .bool(false), .number(0), .number(-7), .number(5), .number(1_795_666_724), .number(0.0016),
        .number(-2.5e-7), .number(1e300), .number(9_007_199_254_740_993), .string(""), .string("plain"),
        .string(
            "quote \" backslash \\ slash / tab \t newline \n return \r bell \u{07} nul \u{0} escape \u{1B} del \u{7F}"),
        .string("é 한국어 中文 日本語 😀 \u{2028}"), .array([]), .object([:]),
        .array([.number(1), .string("two"), .null, .array([.bool(false)])]),
        .object([
            "usage": .object([
                "total_tokens": .number(5), "total_price": .string("0.0000080"), "latency": .number(0.001683),
            ]),
            "retriever_resources": .array([]), "annotation_reply": .null, "b": .number(1),
            "a": .object(["z": .null, "y": .bool(true)]),
        ]),
    ]

    static func written(_ value: JSONValue, sortedKeys: Bool) -> String {
        String(buffer: value.jsonBuffer(sortedKeys: sortedKeys))
    }

    @Test(arguments: samples) func sortedOutputIsWhatJSONEncoderWrites(_ value: JSONValue) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        #expect(Self.written(value, sortedKeys: true) == String(decoding: try encoder.encode(value), as: UTF8.self))
    }

    @Test(arguments: samples) func unsortedOutputReadsBackTheSame(_ value: JSONValue) throws {
        let text = Self.written(value, sortedKeys: false)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) == value)
    }

    @Test func aNumberJSONCannotHoldIsWrittenAsNull() {
        #expect(Self.written(.array([.number(.nan), .number(.infinity)]), sortedKeys: true) == "[null,null]")
    }
}
