import Foundation
import Testing

@testable import ChatGateway

/// SSE framing of `DifyStreamParser`: lines, events, fields, end of stream, memory bound.
@Suite("DifyStreamParser framing", .hangLimit)
struct DifyStreamParserTests {
    typealias F = DifyStreamFixtures
    let ids = F.ids

    func message(_ answer: String) -> String { F.messageLine(answer) }

    // MARK: Whole streams

    @Test func realisticChatStreamGivesExactlyItsEvents() {
        #expect(F.parseWhole(F.bytes(F.chatStream)) == F.chatEvents)
    }

    @Test func wireExampleFromTheDifyReference() {
        #expect(F.parseWhole(F.bytes(F.docWireExample)) == F.docWireEvents)
        // The reference elides ids as `...`; the fixture must be the example itself otherwise.
        #expect(F.docWireExample.contains(#""answer":"Hel","from_variable_selector":null}"#))
    }

    @Test func longStreamWithEveryKindOfEvent() {
        #expect(F.parseWhole(F.allKindsStream) == F.allKindsEvents)
    }

    @Test func everyEventIsReturnedByTheFeedThatCompletesIt() {
        var parser = DifyStreamParser()
        let first = message("a") + "\n\n" + message("b") + "\n\nevent: ping\n\n" + message("c")
        #expect(parser.feed(Array(first.utf8)) == [.answerDelta(ids, text: "a"), .answerDelta(ids, text: "b"), .ping])
        #expect(parser.feed(Array("\n".utf8)) == [])
        #expect(parser.feed(Array("\n".utf8)) == [.answerDelta(ids, text: "c")])
        #expect(parser.feed([UInt8]()) == [])
        #expect(parser.finish() == [])
    }

    @Test func severalEventsInOneChunk() {
        let wire = (1...20).map { message("#\($0)") + "\n\n" }.joined() + "event: ping\n\n"
        var parser = DifyStreamParser()
        let events = parser.feed(Array(wire.utf8))
        #expect(events == (1...20).map { .answerDelta(ids, text: "#\($0)") } + [.ping])
        #expect(parser.finish() == [])
    }

    // MARK: Line endings

    @Test(arguments: F.LineEnding.allCases)
    func eachLineEndingStyle(_ ending: F.LineEnding) {
        #expect(F.parseWhole(F.bytes(F.chatStream, ending)) == F.chatEvents)
        #expect(F.parseWhole(F.bytes(F.docWireExample, ending)) == F.docWireEvents)
    }

    @Test func mixedLineEndingsInOneStream() {
        let wire =
            message("1") + "\r\n\r\n" + message("2") + "\r\r" + message("3") + "\n\n"
            + message("4") + "\r\n\n" + message("5") + "\n\r\n" + message("6") + "\r\n\r" + "event: ping\r\n\n"
        #expect(F.parseWhole(Array(wire.utf8)) == (1...6).map { .answerDelta(ids, text: "\($0)") } + [.ping])
    }

    /// `\r` closing one read and `\n` opening the next are one line ending, not a line ending and a blank line.
    /// If they were two, the first `data:` line would be dispatched alone, as malformed JSON.
    @Test func crAndLfSplitAcrossReadsAreOneLineEnding() {
        var parser = DifyStreamParser()
        #expect(parser.feed(Array("data: {\"event\":\"message\",\r".utf8)) == [])
        #expect(parser.feed(Array("\ndata: \"answer\":\"ok\"}\r".utf8)) == [])
        #expect(parser.feed(Array("\n\r".utf8)) == [.answerDelta(DifyStreamIDs(), text: "ok")])
        #expect(parser.feed(Array("\nevent: ping\r".utf8)) == [])  // this `\n` ends the blank line begun by `\r`
        #expect(parser.feed(Array("\r".utf8)) == [.ping])
        #expect(parser.feed(Array("\n".utf8)) == [])  // closes the `\r` blank line: no extra event
        #expect(parser.finish() == [])
    }

    @Test func crThenCrIsTwoLineEndingsEvenAcrossReads() {
        var parser = DifyStreamParser()
        #expect(parser.feed(Array((message("x") + "\r").utf8)) == [])
        #expect(parser.feed(Array("\r".utf8)) == [.answerDelta(ids, text: "x")])
    }

    // MARK: Fields

    @Test func multiLineDataIsJoinedWithNewlines() {
        let wire = "data: {\"event\":\"message\",\ndata:   \"answer\"\ndata: :\"two\\nlines\"}\n\n"
        #expect(F.parseWhole(Array(wire.utf8)) == [.answerDelta(DifyStreamIDs(), text: "two\nlines")])
        // The join is exactly one `\n` (not a space, not nothing): visible in a malformed payload.
        #expect(F.parseWhole(Array("data: a\ndata:b\ndata:  c\ndata\n\n".utf8)) == [.malformed("a\nb\n c\n")])
    }

    @Test func commentsAreIgnored() {
        let wire = ": keep-alive\n:\n" + message("x") + "\n: between data and the blank line\n\n: trailing\n\n"
        #expect(F.parseWhole(Array(wire.utf8)) == [.answerDelta(ids, text: "x")])
    }

    @Test func idRetryAndUnknownFieldsAreIgnored() {
        let wire = "id: 42\nretry: 10000\n" + message("x") + "\nid\nretry\nfoo: bar\nx-proxy\n\nid: 43\n\nretry: 1\n\n"
        #expect(F.parseWhole(Array(wire.utf8)) == [.answerDelta(ids, text: "x")])
    }

    @Test func dataWithoutTheSpaceAndWithExtraSpaces() {
        let json = #"{"event":"message","answer":"x"}"#
        #expect(F.parseWhole(Array("data:\(json)\n\n".utf8)) == [.answerDelta(DifyStreamIDs(), text: "x")])
        // Only one space is part of the syntax; more are JSON whitespace here...
        #expect(F.parseWhole(Array("data:   \(json)\n\n".utf8)) == [.answerDelta(DifyStreamIDs(), text: "x")])
        // ...and kept in the payload.
        #expect(F.parseWhole(Array("data:  nope\n\n".utf8)) == [.malformed(" nope")])
        #expect(F.parseWhole(Array("data:nope\n\n".utf8)) == [.malformed("nope")])
    }

    @Test func fieldNamesAreCaseSensitiveAndExact() {
        let wire =
            "Data: {\"event\":\"message\",\"answer\":\"x\"}\n\ndata : {\"event\":\"message\",\"answer\":\"x\"}\n\nEVENT: ping\n\n"
        #expect(F.parseWhole(Array(wire.utf8)) == [])
    }

    /// A line without a colon is a field name with an empty value: `data` alone adds an empty data line.
    @Test func lineWithoutColonIsAFieldWithEmptyValue() {
        let wire = "data: {\"event\":\"message\",\ndata\ndata: \"answer\":\"x\"}\n\n"
        #expect(F.parseWhole(Array(wire.utf8)) == [.answerDelta(DifyStreamIDs(), text: "x")])
        #expect(F.parseWhole(Array("data\n\n".utf8)) == [.malformed("")])
        #expect(F.parseWhole(Array("event\n\n".utf8)) == [])
    }

    @Test func pingKeepAlive() {
        #expect(F.parseWhole(Array("event: ping\n\n".utf8)) == [.ping])
        #expect(F.parseWhole(Array("event:ping\n\n".utf8)) == [.ping])
        #expect(F.parseWhole(Array(": comment\nevent: ping\nid: 3\n\n".utf8)) == [.ping])
        #expect(F.parseWhole(Array("event: ping \n\n".utf8)) == [])  // the name is exact
        #expect(F.parseWhole(Array("data: {\"event\":\"ping\"}\n\n".utf8)) == [.ping])
        // The last `event:` line of an event counts.
        #expect(F.parseWhole(Array("event: other\nevent: ping\n\n".utf8)) == [.ping])
        #expect(F.parseWhole(Array("event: ping\nevent: other\n\n".utf8)) == [])
    }

    @Test func eventsWithoutDataOrNameDispatchNothing() {
        #expect(F.parseWhole(Array("\n\n\n\r\n\r\r".utf8)) == [])
        #expect(F.parseWhole(Array("event: message\n\n".utf8)) == [])
        #expect(F.parseWhole(Array("id: 1\nretry: 5\n\n".utf8)) == [])
        #expect(F.parseWhole([]) == [])
    }

    /// The event name of one event does not leak into the next.
    @Test func eventStateIsResetAfterEachDispatch() {
        let wire = "event: ping\ndata: {\"answer\":\"x\"}\n\ndata: {\"answer\":\"y\"}\n\n"
        #expect(F.parseWhole(Array(wire.utf8)) == [.ping, .malformed(#"{"answer":"y"}"#)])
    }

    // MARK: UTF-8

    @Test func multiByteCharactersSplitAtEveryByte() {
        let text = "é 안녕하세요 😀👩‍👩‍👧 ∑"
        let wire = Array((message(text) + "\n\n").utf8)
        for cut in 0...wire.count {
            #expect(F.parse(wire, cuts: [cut]) == [.answerDelta(ids, text: text)], "cut at \(cut)")
        }
        #expect(F.parseByteByByte(wire) == [.answerDelta(ids, text: text)])
    }

    @Test func byteOrderMarkAtTheStartIsSkipped() {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let wire = Array((message("x") + "\n\n").utf8)
        #expect(F.parseWhole(bom + wire) == [.answerDelta(ids, text: "x")])
        for cut in 1...4 {
            #expect(F.parse(bom + wire, cuts: [cut]) == [.answerDelta(ids, text: "x")], "cut at \(cut)")
        }
        #expect(F.parse(bom + wire, cuts: [1, 2]) == [.answerDelta(ids, text: "x")])
        #expect(F.parseByteByByte(bom + wire) == [.answerDelta(ids, text: "x")])
    }

    @Test func byteOrderMarkIsSkippedOnlyOnceAndOnlyAtTheStart() {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let wire = Array((message("x") + "\n\n").utf8)
        // A second mark makes the first line's field name "\u{FEFF}data": an unknown field.
        #expect(F.parseWhole(bom + bom + wire) == [])
        #expect(F.parseWhole(wire + bom + wire) == [.answerDelta(ids, text: "x")])
        // A stream starting with part of a mark keeps those bytes (here: in an unknown field name).
        #expect(F.parseWhole([0xEF, 0xBB] + wire + wire) == [.answerDelta(ids, text: "x")])
        #expect(F.parse([0xEF] + Array("\n".utf8) + wire, cuts: [1]) == [.answerDelta(ids, text: "x")])
        // The mark is looked for again after `finish()`, which starts a new stream.
        var parser = DifyStreamParser()
        #expect(parser.feed(bom + wire) == [.answerDelta(ids, text: "x")])
        #expect(parser.finish() == [])
        #expect(parser.feed(bom + wire) == [.answerDelta(ids, text: "x")])
    }

    @Test func aBareCarriageReturnInsideJSONStringsCannotOccurButSplitsLines() {
        // Dify's JSON never holds raw line breaks; if a proxy adds one, the line is cut there (SSE rules).
        let wire = "data: {\"event\":\"message\",\"answer\":\"a\rb\"}\n\n"
        #expect(F.parseWhole(Array(wire.utf8)) == [.malformed("{\"event\":\"message\",\"answer\":\"a")])
    }

    // MARK: End of stream

    @Test func finishDeliversAnEventCutBeforeItsBlankLine() {
        for tail in ["", "\n", "\r", "\r\n"] {
            var parser = DifyStreamParser()
            #expect(
                parser.feed(Array((message("a") + "\n\n" + message("b") + tail).utf8)) == [.answerDelta(ids, text: "a")]
            )
            #expect(parser.finish() == [.answerDelta(ids, text: "b")], "tail \(tail.debugDescription)")
            #expect(parser.finish() == [])
        }
        var parser = DifyStreamParser()
        #expect(parser.feed(Array("event: ping".utf8)) == [])
        #expect(parser.finish() == [.ping])
    }

    @Test func finishOnAnEventCutMidJSONReportsItMalformed() {
        var parser = DifyStreamParser()
        #expect(parser.feed(Array(#"data: {"event":"message","answ"#.utf8)) == [])
        #expect(parser.finish() == [.malformed(#"{"event":"message","answ"#)])
    }

    @Test func finishResetsTheParser() {
        var parser = DifyStreamParser()
        _ = parser.feed(Array("event: ping\n: x\ndata: {\"event\":\"mess".utf8))
        _ = parser.finish()
        #expect(parser.feed(Array((message("fresh") + "\n\n").utf8)) == [.answerDelta(ids, text: "fresh")])
        #expect(parser.bufferedByteCount == 0)
    }

    // MARK: Memory bound

    @Test func eventUpToTheLimitIsKeptOneByteMoreIsDropped() {
        let limit = 100
        let head = #"data: {"event":"message","answer":""#
        let tail = #""}"#
        func line(bytes: Int) -> String {
            head + String(repeating: "x", count: bytes - head.utf8.count - tail.utf8.count) + tail
        }
        let exact = line(bytes: limit)
        #expect(exact.utf8.count == limit)
        let atLimit = F.parseWhole(Array((exact + "\n\n").utf8), maxEventBytes: limit)
        let padding = limit - head.utf8.count - tail.utf8.count
        #expect(atLimit == [.answerDelta(DifyStreamIDs(), text: String(repeating: "x", count: padding))])
        let over = F.parseWhole(Array((line(bytes: limit + 1) + "\n\n").utf8), maxEventBytes: limit)
        #expect(over == [.malformed("event exceeds 100 bytes")])
    }

    @Test func oversizeEventIsReportedOnceThenTheParserResyncs() {
        let limit = 1_000
        let big = "data: {\"event\":\"message\",\"answer\":\"" + String(repeating: "가", count: 2_000) + "\"}\n"
        let wire = Array(
            (message("before") + "\n\n" + big + "data: " + message("same event, dropped") + "\n: c\n\n"
                + message("after") + "\n\n").utf8)
        let expected: [DifyStreamEvent] = [
            .answerDelta(ids, text: "before"), .malformed("event exceeds 1000 bytes"), .answerDelta(ids, text: "after"),
        ]
        #expect(F.parseWhole(wire, maxEventBytes: limit) == expected)
        #expect(F.parseByteByByte(wire, maxEventBytes: limit) == expected)
        for cut in stride(from: 0, through: wire.count, by: 97) {
            #expect(F.parse(wire, cuts: [cut], maxEventBytes: limit) == expected, "cut at \(cut)")
        }
    }

    @Test func manySmallLinesAlsoCountTowardsTheLimit() {
        let ok = #"data: {"event":"message","answer":"ok"}"#
        let wire = Array((String(repeating: "data: 0123456789\n", count: 20) + "\n" + ok + "\n\n").utf8)
        #expect(
            F.parseWhole(wire, maxEventBytes: 100) == [
                .malformed("event exceeds 100 bytes"), .answerDelta(DifyStreamIDs(), text: "ok"),
            ])
    }

    @Test func endlessLineNeverHoldsMoreThanTheLimit() {
        let limit = 64 * 1024
        var parser = DifyStreamParser(maxEventBytes: limit)
        let chunk = [UInt8](repeating: UInt8(ascii: "a"), count: 4_096)
        var events = parser.feed(Array("data: ".utf8))
        for _ in 0..<512 {  // 2 MiB without a line ending
            events += parser.feed(chunk)
            #expect(parser.bufferedByteCount <= limit)
        }
        #expect(events == [.malformed("event exceeds 65536 bytes")])
        #expect(parser.bufferedByteCount == 0)
        // Still the same oversize event until a blank line; then back to normal.
        #expect(parser.feed(Array(("\n" + message("lost") + "\n").utf8)) == [])
        #expect(parser.feed(Array(("\n" + message("kept") + "\n\n").utf8)) == [.answerDelta(ids, text: "kept")])
        #expect(parser.finish() == [])
    }

    @Test func oversizeEventCutAtEndOfStreamIsNotReportedTwice() {
        var parser = DifyStreamParser(maxEventBytes: 10)
        #expect(parser.feed(Array("data: 0123456789abcdef".utf8)) == [.malformed("event exceeds 10 bytes")])
        #expect(parser.finish() == [])
    }

    // MARK: Input types

    @Test func acceptsAnySequenceOfBytes() {
        let wire = F.bytes(F.chatStream)
        var fromSlices = DifyStreamParser()
        var fromUTF8View = DifyStreamParser()
        var fromData = DifyStreamParser()
        var fromNonContiguous = DifyStreamParser()
        let half = wire.count / 2
        let a = fromSlices.feed(wire[..<half]) + fromSlices.feed(wire[half...]) + fromSlices.finish()
        let b = fromUTF8View.feed(F.chatStream.utf8) + fromUTF8View.finish()
        let c = fromData.feed(Data(wire)) + fromData.finish()
        let d =
            fromNonContiguous.feed(wire.lazy.map { $0 }) + fromNonContiguous.feed(AnySequence(wire[0..<0]))
            + fromNonContiguous.finish()
        #expect(a == F.chatEvents)
        #expect(b == F.chatEvents)
        #expect(c == F.chatEvents)
        #expect(d == F.chatEvents)
    }
}
