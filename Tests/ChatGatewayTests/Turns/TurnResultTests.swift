import Testing

@testable import ChatGateway

@Suite("How a turn ended, as kept with it")
struct TurnResultTests {
    static let ids = TurnIDs(conversationID: "c", messageID: "m", taskID: "t")

    @Test(arguments: [
        TurnEnding.completed(
            ids, answer: "a", metadata: .object(["usage": .object(["total_tokens": .number(3)])]), stopped: false),
        .failed(.upstream(status: 400, code: "invalid_param", message: "bad"), ids: nil),
        .failed(.circuitOpen(failures: 5, retryAfter: 30), ids: ids),
        .interrupted(ids: ids, reason: "gone"),
    ])
    func readsBackWhatWasWritten(ending: TurnEnding) throws {
        let result = TurnResult(ending)
        #expect(TurnResult(json: result.json) == result)
    }

    @Test func aBlockingAnswerKeepsDifysOtherFields() throws {
        let answer = DifyChatAnswer(
            messageID: "m", conversationID: "c", answer: "a", metadata: .object([:]), createdAt: 1_700_000_000,
            taskID: "t", mode: "advanced-chat")
        let result = try #require(TurnResult(json: TurnResult(answer: answer).json))
        #expect(result.createdAt == 1_700_000_000 && result.taskID == "t" && result.mode == "advanced-chat")
    }
}
