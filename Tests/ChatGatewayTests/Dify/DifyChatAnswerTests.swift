import Testing

@testable import ChatGateway

/// Dify's blocking answer, read from its JSON text.
@Suite("Dify blocking answer", .hangLimit)
struct DifyChatAnswerTests {
    func answer(_ text: String) -> DifyChatAnswer? {
        DifyChatAnswer(decoding: Array(text.utf8))
    }

    @Test func readsTheFieldsAndPassesMetadataThroughWhole() {
        let read = answer(
            #"{"event":"message","message_id":"m1","conversation_id":"c1","answer":"Hi \u00e9","created_at":1795666724,"#
                + #""metadata":{"usage":{"total_tokens":5,"total_price":"0.0000080","latency":0.0016},"retriever_resources":[]}}"#
        )
        #expect(
            read
                == DifyChatAnswer(
                    messageID: "m1", conversationID: "c1", answer: "Hi é",
                    metadata: .object([
                        "usage": .object([
                            "total_tokens": .number(5), "total_price": .string("0.0000080"), "latency": .number(0.0016),
                        ]),
                        "retriever_resources": .array([]),
                    ]),
                    createdAt: 1_795_666_724))
    }

    @Test func metadataAndCreatedAtAreOptional() {
        #expect(
            answer(#"{"message_id":"m","conversation_id":"c","answer":"","metadata":null}"#)
                == DifyChatAnswer(messageID: "m", conversationID: "c", answer: "", metadata: nil, createdAt: nil))
    }

    @Test(arguments: [
        #"{"conversation_id":"c","answer":"a"}"#,  // no message_id
        #"{"message_id":"m","conversation_id":"c","answer":5}"#,  // answer not a string
        #"{"message_id":"m","conversation_id":null,"answer":"a"}"#,
        #"["m","c","a"]"#,
        #"{"message_id":"m","conversation_id":"c","answer":"a""#,  // cut short
    ])
    func anythingElseIsMalformed(_ text: String) {
        #expect(answer(text) == nil)
    }
}
