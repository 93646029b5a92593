import Foundation
import Testing

@testable import ChatGateway

/// `DifyJSONReader`, the one-pass JSON reader behind decoding Dify's events and answers, checked against `JSONDecoder`.
@Suite("Dify JSON reader", .timeLimit(.minutes(3)))
struct DifyJSONReaderTests {
    func read(_ text: String) -> JSONValue? {
        Array(text.utf8).withUnsafeBufferPointer { DifyJSONReader.parse($0) }
    }

    func foundation(_ text: String) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    static let valid: [String] = [
        "{}", "[]", "{ }", "[ ]", " \t\r\n{\"a\" : 1 }\n", "null", "true", "false", "0", "-0", "1", "-1",
        "12.5", "-0.25", "1e3", "1E+3", "2.5e-3", "1705407629", "9007199254740993", "1.7976931348623157e308",
        #""""#, #""plain""#, #""안녕하세요 😀""#,
        #""esc \" \\ \/ \b \f \n \r \t""#, #""\u0041\u00e9\uc548\ud83d\ude00\u0000""#, #""\uD83D\uDE00""#,
        #"{"a":[1,2,{"b":null,"c":[true,false]}],"d":{"e":{"f":"g"}},"h":-1.5e2}"#,
        #"{"dup":1,"dup":2}"#,
        #"[[[[[[[[[[]]]]]]]]]]"#,
        #"{"event": "message", "answer": "\ud55c\uad6d\uc5b4", "usage": {"latency": 0.42, "total_price": "0.000016"}}"#,
    ]

    @Test(arguments: valid)
    func agreesWithJSONDecoder(_ text: String) throws {
        let ours = read(text)
        #expect(ours != nil)
        // `JSONValue` decoding of duplicate keys is not specified; compare the rest exactly.
        if !text.contains("dup") { #expect(ours == foundation(text)) }
    }

    @Test func readsTheExpectedValues() {
        #expect(
            read(#"{"a":[1,"x",true,null,{"b":-2.5}]}"#)
                == .object(["a": .array([.number(1), .string("x"), .bool(true), .null, .object(["b": .number(-2.5)])])])
        )
        #expect(read(#""\ud83d\ude00 \u00e9 \n""#) == .string("😀 é \n"))
        #expect(read("1705407629") == .number(1_705_407_629))
        #expect(read("  7  ") == .number(7))
        #expect(read(#"{"dup":1,"dup":2}"#) == .object(["dup": .number(2)]))
    }

    static let invalid: [String] = [
        "", " ", "{", "}", "[", "[1,]", "[,1]", "{,}", #"{"a":1,}"#, #"{"a" 1}"#, #"{a:1}"#, "{'a':1}",
        #"{"a":1}}"#, #"{"a":1} x"#, "[1 2]", "tru", "nul", "True", "NaN", "Infinity", "-", "01", "1.", ".5", "1e",
        "1e+", "+1", "0x10", "1e400", "-1e400", #""unterminated"#, #""bad \x escape""#, #""\u12""#, #""\u12G4""#,
        #""\ud83d""#, #""\ud83d x""#, #""\ude00""#, #""\ud83d\u0041""#, "\"tab\tinside\"", "\"new\nline\"",
        "// comment\n{}", "{} {}",
    ]

    @Test(arguments: invalid)
    func rejectsWhatIsNotJSON(_ text: String) {
        #expect(read(text) == nil)
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xC0, 0xAF, 0x22],
            [0x22, 0x5C, 0x6E, 0xFF, 0x22], [0xFF], [0xEF, 0xBB, 0xBF, 0x7B, 0x7D],
        ] {
            #expect(bytes.withUnsafeBufferPointer { DifyJSONReader.parse($0) } == nil, "\(bytes)")
        }
    }

    @Test func nestingIsBounded() {
        let limit = DifyJSONReader.maxDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(read(deepest)?.depth == limit)
        let mixed = String(repeating: #"{"a":["#, count: limit / 2) + String(repeating: "]}", count: limit / 2)
        #expect(read(mixed)?.depth == limit)
        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(read(tooDeep) == nil)
        // Far too deep must fail cleanly, not exhaust the stack.
        #expect(read(String(repeating: "[", count: 1_000_000)) == nil)
        #expect(read(String(repeating: #"{"a":"#, count: 200_000)) == nil)
    }

    /// Every payload of the fixtures reads the same as with `JSONDecoder`.
    @Test func fixturePayloadsAgreeWithJSONDecoder() {
        let texts = [
            DifyStreamFixtures.chatStream, DifyStreamFixtures.docWireExample,
            String(decoding: DifyStreamFixtures.allKindsStream, as: UTF8.self),
        ]
        var checked = 0
        for text in texts {
            for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == "\r\n" })
            where line.hasPrefix("data: {") {
                let json = String(line.dropFirst(6))
                guard let expected = foundation(json) else { continue }  // a multi-line data fragment
                #expect(read(json) == expected, "\(json)")
                checked += 1
            }
        }
        #expect(checked >= 20)
    }
}
