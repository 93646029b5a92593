import Foundation
import Testing

@testable import ChatGateway

/// What the gateway reads of Dify's event and answer JSON (`DifyEnvelope`), and what it refuses as malformed.
@Suite("Dify event envelope", .hangLimit)
struct DifyEnvelopeTests {
    func event(_ text: String) -> DifyStreamEvent { DifyStreamEvent(decodingData: Array(text.utf8)) }

    @Test func fieldsOfAnotherTypeReadAsMissing() {
        #expect(
            event(#"{"event":"message","task_id":7,"message_id":"m","conversation_id":null,"answer":{"x":1}}"#)
                == .answerDelta(DifyStreamIDs(messageID: "m"), text: ""))
        #expect(
            event(#"{"event":"message_end","message_id":"m","created_at":"1705407629","metadata":null}"#)
                == .messageEnd(DifyStreamIDs(messageID: "m", createdAt: 1_705_407_629), metadata: nil))
    }

    @Test func statusIsReadAsANumberOrAStringOfDigits() {
        #expect(
            event(#"{"event":"error","status":429,"code":"rate","message":"slow"}"#)
                == .error(status: 429, code: "rate", message: "slow"))
        #expect(
            event(#"{"event":"error","status":"400","message":"bad"}"#)
                == .error(status: 400, code: nil, message: "bad"))
        #expect(
            event(#"{"event":"error","status":1e400,"message":"x"}"#)
                == .malformed(#"{"event":"error","status":1e400,"message":"x"}"#))
    }

    @Test func passedThroughEventsKeepTheirWholePayload() {
        let text = #"{"event":"node_started","task_id":"t","data":{"title":"Search","n":[1,2.5,true,null]}}"#
        guard case .workflow(_, "node_started", let payload) = event(text) else {
            Issue.record("expected a workflow event")
            return
        }
        #expect(payload == (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))))
    }

    static let invalid: [String] = [
        "", "{", #"{"event":"message"} x"#, "[1]", #""message""#, "null",
        #"{"event":"message","answer":"\ud83d"}"#, "{'event':'message'}",
    ]

    @Test(arguments: invalid)
    func whatIsNotAJSONObjectIsMalformed(_ text: String) {
        #expect(event(text) == .malformed(text))
    }

    @Test func invalidUTF8AndRunawayNestingAreMalformed() {
        let badUTF8: [UInt8] = Array(#"{"event":"message","answer":""#.utf8) + [0xFF] + Array(#""}"#.utf8)
        guard case .malformed = DifyStreamEvent(decodingData: badUTF8) else {
            Issue.record("invalid UTF-8 was accepted")
            return
        }
        let deep = #"{"event":"message_end","metadata":"# + String(repeating: "[", count: 100_000) + "}"
        guard case .malformed = event(deep) else {
            Issue.record("runaway nesting was accepted")
            return
        }
    }
}
