import Testing

@testable import ChatGateway

/// Decoding of each dispatched event's `data:` JSON into `DifyStreamEvent`.
@Suite("DifyStreamParser decoding", .hangLimit)
struct DifyStreamParserDecodingTests {
    typealias F = DifyStreamFixtures
    let ids = F.ids
    let envelope =
        #""conversation_id":"\#(F.conversationID)","message_id":"\#(F.messageID)","created_at":\#(F.createdAt),"task_id":"\#(F.taskID)""#

    /// Decodes one event through the parser (framing included).
    func decode(_ json: String, eventLine: String? = nil) -> [DifyStreamEvent] {
        let wire = (eventLine.map { "event: \($0)\n" } ?? "") + "data: \(json)\n\n"
        return F.parseWhole(Array(wire.utf8))
    }

    // MARK: Answer text

    @Test func messageIsAnAnswerDelta() {
        #expect(
            decode(#"{"event":"message",\#(envelope),"id":"\#(F.messageID)","answer":"안녕 😀"}"#)
                == [.answerDelta(ids, text: "안녕 😀")])
    }

    @Test func agentMessageIsAnAnswerDelta() {
        #expect(
            decode(#"{"event":"agent_message",\#(envelope),"id":"\#(F.messageID)","answer":"I'll check."}"#)
                == [.answerDelta(ids, text: "I'll check.")])
    }

    @Test func messageReplaceReplacesTheAnswer() {
        #expect(
            decode(
                #"{"event":"message_replace",\#(envelope),"answer":"Sorry, I can't answer that.","reason":"output_moderation"}"#
            )
                == [.answerReplace(ids, text: "Sorry, I can't answer that.")])
    }

    @Test func emptyOrMissingAnswerIsEmptyText() {
        #expect(decode(#"{"event":"message",\#(envelope),"answer":""}"#) == [.answerDelta(ids, text: "")])
        #expect(decode(#"{"event":"message",\#(envelope)}"#) == [.answerDelta(ids, text: "")])
        #expect(decode(#"{"event":"message",\#(envelope),"answer":42}"#) == [.answerDelta(ids, text: "")])
    }

    @Test func escapesInTheAnswerAreDecoded() {
        let json = #"{"event":"message","answer":"line\nnext \"quoted\" tab\t slash\/ back\\ \u00e9\ud83d\ude00"}"#
        #expect(decode(json) == [.answerDelta(DifyStreamIDs(), text: "line\nnext \"quoted\" tab\t slash/ back\\ é😀")])
    }

    /// Older Dify used `json.dumps`: spaces after separators and `\uXXXX` for everything non-ASCII.
    @Test func jsonDumpsStyleEqualsCompactStyle() {
        let compact =
            #"{"event":"message","conversation_id":"c","message_id":"m","created_at":1705407629,"task_id":"t","id":"m","answer":"안녕하세요 😀"}"#
        let dumps =
            #"{"event": "message", "conversation_id": "c", "message_id": "m", "created_at": 1705407629, "task_id": "t", "id": "m", "answer": "\uc548\ub155\ud558\uc138\uc694 \ud83d\ude00"}"#
        let expected: [DifyStreamEvent] = [
            .answerDelta(
                DifyStreamIDs(taskID: "t", messageID: "m", conversationID: "c", createdAt: 1_705_407_629),
                text: "안녕하세요 😀")
        ]
        #expect(decode(compact) == expected)
        #expect(decode(dumps) == expected)
        #expect(
            decode("  { \"event\" :\t\"message\" , \"answer\" : \"x\" }  ") == [
                .answerDelta(DifyStreamIDs(), text: "x")
            ])
    }

    // MARK: Ids

    @Test func idsComeFromTheCommonEnvelope() {
        let json =
            #"{"event":"message","conversation_id":"c-1","message_id":"m-1","created_at":1700000000,"task_id":"t-1","id":"m-1","answer":"x"}"#
        #expect(
            decode(json) == [
                .answerDelta(
                    DifyStreamIDs(taskID: "t-1", messageID: "m-1", conversationID: "c-1", createdAt: 1_700_000_000),
                    text: "x")
            ])
        #expect(decode(json).first?.ids?.taskID == "t-1")
    }

    @Test func messageIDFallsBackToIDForMessageEvents() {
        for event in ["message", "agent_message", "message_end", "message_replace"] {
            let events = decode(#"{"event":"\#(event)","task_id":"t","id":"m-from-id","answer":"x"}"#)
            #expect(events.first?.ids?.messageID == "m-from-id", "\(event)")
        }
        // `message_id` wins over `id` when both are there.
        #expect(decode(#"{"event":"message","message_id":"m","id":"other","answer":"x"}"#).first?.ids?.messageID == "m")
    }

    @Test func idIsNotTheMessageIDForFilesAndThoughts() {
        let file = decode(
            #"{"event":"message_file","id":"file-1","type":"image","belongs_to":"assistant","url":"https://x/y.png","conversation_id":"c"}"#
        )
        #expect(
            file == [
                .messageFile(
                    DifyStreamIDs(conversationID: "c"), id: "file-1", type: "image", url: "https://x/y.png",
                    belongsTo: "assistant")
            ])
        let thought = decode(#"{"event":"agent_thought","id":"thought-1","task_id":"t","position":1}"#)
        #expect(thought.first?.ids == DifyStreamIDs(taskID: "t"))
    }

    @Test func missingOrOddlyTypedIDsAreNil() {
        #expect(decode(#"{"event":"message","answer":"x"}"#) == [.answerDelta(DifyStreamIDs(), text: "x")])
        let odd =
            #"{"event":"message","task_id":null,"message_id":7,"conversation_id":["c"],"created_at":"soon","answer":"x"}"#
        #expect(decode(odd) == [.answerDelta(DifyStreamIDs(), text: "x")])
        #expect(
            decode(#"{"event":"message","created_at":1705407629.0,"answer":"x"}"#).first?.ids?.createdAt
                == 1_705_407_629)
    }

    @Test func unknownExtraFieldsAreIgnored() {
        let json =
            #"{"event":"message",\#(envelope),"id":"\#(F.messageID)","answer":"x","from_variable_selector":["llm","text"],"mode":"advanced-chat","future":{"a":[1,2,3]}}"#
        #expect(decode(json) == [.answerDelta(ids, text: "x")])
    }

    // MARK: End of answer

    @Test func messageEndPassesMetadataThrough() {
        let json =
            #"{"event":"message_end",\#(envelope),"id":"\#(F.messageID)","metadata":{"usage":{"prompt_tokens":12,"completion_tokens":2,"total_tokens":14,"total_price":"0.000016","currency":"USD","latency":0.42},"retriever_resources":[{"position":1,"dataset_id":"d","dataset_name":"FAQ","document_id":"doc","document_name":"faq.md","segment_id":"s","score":0.91,"content":"답변"}]},"files":[]}"#
        let metadata: JSONValue = .object([
            "usage": .object([
                "prompt_tokens": .number(12), "completion_tokens": .number(2), "total_tokens": .number(14),
                "total_price": .string("0.000016"), "currency": .string("USD"), "latency": .number(0.42),
            ]),
            "retriever_resources": .array([
                .object([
                    "position": .number(1), "dataset_id": .string("d"), "dataset_name": .string("FAQ"),
                    "document_id": .string("doc"), "document_name": .string("faq.md"), "segment_id": .string("s"),
                    "score": .number(0.91), "content": .string("답변"),
                ])
            ]),
        ])
        #expect(decode(json) == [.messageEnd(ids, metadata: metadata)])
    }

    @Test func messageEndWithoutMetadata() {
        #expect(decode(#"{"event":"message_end",\#(envelope)}"#) == [.messageEnd(ids, metadata: nil)])
        #expect(decode(#"{"event":"message_end",\#(envelope),"metadata":null}"#) == [.messageEnd(ids, metadata: nil)])
    }

    // MARK: Files, thoughts, chatflow

    @Test func messageFile() {
        let json =
            #"{"event":"message_file",\#(envelope),"id":"f-1","type":"image","belongs_to":"assistant","url":"https://upload.dify.ai/files/f-1/file-preview?timestamp=1&sign=a%2Fb"}"#
        #expect(
            decode(json) == [
                .messageFile(
                    ids, id: "f-1", type: "image",
                    url: "https://upload.dify.ai/files/f-1/file-preview?timestamp=1&sign=a%2Fb", belongsTo: "assistant")
            ])
        #expect(
            decode(#"{"event":"message_file"}"#) == [
                .messageFile(DifyStreamIDs(), id: nil, type: nil, url: nil, belongsTo: nil)
            ])
    }

    @Test func agentThoughtKeepsItsWholePayload() {
        let json =
            #"{"event":"agent_thought",\#(envelope),"id":"th-1","position":2,"thought":"검색","observation":"ok","tool":"google_search","tool_labels":{"google_search":{"en_US":"Google"}},"tool_input":"{\"query\": \"x\"}","message_files":["f-1"]}"#
        let payload: JSONValue = .object([
            "event": .string("agent_thought"), "conversation_id": .string(F.conversationID),
            "message_id": .string(F.messageID), "created_at": .number(Double(F.createdAt)),
            "task_id": .string(F.taskID),
            "id": .string("th-1"), "position": .number(2), "thought": .string("검색"), "observation": .string("ok"),
            "tool": .string("google_search"),
            "tool_labels": .object(["google_search": .object(["en_US": .string("Google")])]),
            "tool_input": .string(#"{"query": "x"}"#), "message_files": .array([.string("f-1")]),
        ])
        #expect(decode(json) == [.agentThought(ids, payload: payload)])
    }

    @Test(arguments: [
        "workflow_started", "node_started", "node_finished", "workflow_finished", "node_retry",
        "iteration_started", "iteration_next", "iteration_completed", "loop_started", "loop_next", "loop_completed",
        "agent_log", "human_input_required", "workflow_paused", "parallel_branch_started", "parallel_branch_finished",
    ])
    func chatflowProgressEventsAreWorkflowEvents(_ name: String) {
        let json =
            #"{"event":"\#(name)",\#(envelope),"workflow_run_id":"wr-1","data":{"id":"n-1","status":"succeeded","outputs":{"answer":"안녕"},"elapsed_time":0.5}}"#
        #expect(decode(json) == [.workflow(ids, event: name, payload: F.json(json))])
    }

    @Test func workflowPayloadIsTheWholeEvent() {
        let json =
            #"{"event":"workflow_finished","task_id":"t","workflow_run_id":"wr","data":{"status":"failed","error":"boom","total_tokens":3}}"#
        let payload: JSONValue = .object([
            "event": .string("workflow_finished"), "task_id": .string("t"), "workflow_run_id": .string("wr"),
            "data": .object(["status": .string("failed"), "error": .string("boom"), "total_tokens": .number(3)]),
        ])
        #expect(decode(json) == [.workflow(DifyStreamIDs(taskID: "t"), event: "workflow_finished", payload: payload)])
    }

    // MARK: Errors

    @Test func errorWithoutTaskID() {
        let json =
            #"{"event":"error","conversation_id":"\#(F.conversationID)","message_id":"\#(F.messageID)","created_at":\#(F.createdAt),"status":400,"code":"completion_request_error","message":"[openai] Rate limit reached"}"#
        #expect(
            decode(json) == [
                .error(status: 400, code: "completion_request_error", message: "[openai] Rate limit reached")
            ])
    }

    @Test func errorWithoutStatusOrCode() {
        #expect(
            decode(#"{"event":"error","code":"invalid_param","message":"Run failed: boom"}"#)
                == [.error(status: nil, code: "invalid_param", message: "Run failed: boom")])
        #expect(decode(#"{"event":"error","message":"x"}"#) == [.error(status: nil, code: nil, message: "x")])
        #expect(decode(#"{"event":"error"}"#) == [.error(status: nil, code: nil, message: "")])
        #expect(
            decode(#"{"event":"error","status":"500","message":"x"}"#) == [.error(status: 500, code: nil, message: "x")]
        )
    }

    @Test func internalServerErrorEvent() {
        let json =
            #"{"event": "error", "message_id": "m", "conversation_id": "c", "created_at": 1, "code": "internal_server_error", "message": "Internal Server Error, please contact support.", "status": 500}"#
        #expect(
            decode(json) == [
                .error(
                    status: 500, code: "internal_server_error",
                    message: "Internal Server Error, please contact support.")
            ])
    }

    // MARK: Other events

    @Test func ttsEventsAreOther() {
        let tts = #"{"event":"tts_message",\#(envelope),"audio":"SUQzBAAAAAAAI1RTU0U="}"#
        let end = #"{"event":"tts_message_end",\#(envelope),"audio":""}"#
        #expect(decode(tts) == [.other(event: "tts_message", payload: F.json(tts))])
        #expect(decode(end) == [.other(event: "tts_message_end", payload: F.json(end))])
    }

    @Test func unknownEventIsOtherWithItsPayload() {
        let json = #"{"event":"some_future_event","task_id":"t","x":[1,true,null,"y"]}"#
        let payload: JSONValue = .object([
            "event": .string("some_future_event"), "task_id": .string("t"),
            "x": .array([.number(1), .bool(true), .null, .string("y")]),
        ])
        #expect(decode(json) == [.other(event: "some_future_event", payload: payload)])
    }

    @Test func pingAsData() {
        #expect(decode(#"{"event":"ping"}"#) == [.ping])
        #expect(decode(#"{"event": "ping", "task_id": "t"}"#) == [.ping])
    }

    // MARK: Event name: JSON versus `event:` line

    @Test func jsonEventWinsOverTheEventLine() {
        #expect(
            decode(#"{"event":"message","answer":"x"}"#, eventLine: "ping") == [
                .answerDelta(DifyStreamIDs(), text: "x")
            ])
        #expect(
            decode(#"{"event":"error","message":"x"}"#, eventLine: "message") == [
                .error(status: nil, code: nil, message: "x")
            ])
    }

    @Test func eventLineNamesJSONWithoutAnEventField() {
        #expect(decode(#"{"answer":"x"}"#, eventLine: "message") == [.answerDelta(DifyStreamIDs(), text: "x")])
        #expect(
            decode(#"{"event":"","answer":"x"}"#, eventLine: "message") == [.answerDelta(DifyStreamIDs(), text: "x")])
        #expect(decode(#"{}"#, eventLine: "ping") == [.ping])
    }

    // MARK: Malformed

    @Test(arguments: [
        "not json",
        "[DONE]",
        #"{"event":"message","answer":"x""#,
        #"{"event":"message","answer":"x"} trailing"#,
        #"["event","message"]"#,
        #""message""#,
        "42",
        "null",
        "",
        #"{"answer":"x"}"#,
        #"{"event":42,"answer":"x"}"#,
        #"{"event":null}"#,
        #"{"event":""}"#,
        #"{"event":"message","answer":"\ud83d"}"#,
    ])
    func notAJSONObjectWithAnEventIsMalformed(_ payload: String) {
        #expect(decode(payload) == [.malformed(payload)])
    }

    @Test func invalidUTF8IsMalformed() {
        let wire: [UInt8] = Array(#"data: {"event":"message","answer":""#.utf8) + [0xFF, 0xC3] + Array("\"}\n\n".utf8)
        let events = F.parseWhole(wire)
        #expect(events.count == 1)
        guard case .malformed(let text)? = events.first else {
            Issue.record("expected .malformed, got \(events)")
            return
        }
        #expect(text.hasPrefix(#"{"event":"message","answer":""#))
    }

    @Test func malformedEventDoesNotStopTheStream() {
        let wire = "data: {oops\n\n" + F.messageLine("after") + "\n\n"
        #expect(F.parseWhole(Array(wire.utf8)) == [.malformed("{oops"), .answerDelta(ids, text: "after")])
    }

    // MARK: The decoder on its own

    @Test func decodingInitializerWorksWithoutTheParser() {
        #expect(
            DifyStreamEvent(decodingData: Array(#"{"event":"message","answer":"x"}"#.utf8))
                == .answerDelta(DifyStreamIDs(), text: "x"))
        #expect(
            DifyStreamEvent(decodingData: Array(#"{"answer":"x"}"#.utf8), eventName: "agent_message")
                == .answerDelta(DifyStreamIDs(), text: "x"))
        #expect(DifyStreamEvent(decodingData: Array("{}".utf8), eventName: "") == .malformed("{}"))
    }

    @Test func idsAccessor() {
        #expect(DifyStreamEvent.ping.ids == nil)
        #expect(DifyStreamEvent.error(status: 400, code: nil, message: "").ids == nil)
        #expect(DifyStreamEvent.other(event: "x", payload: .null).ids == nil)
        #expect(DifyStreamEvent.malformed("").ids == nil)
        #expect(DifyStreamEvent.answerReplace(ids, text: "").ids == ids)
        #expect(DifyStreamEvent.workflow(ids, event: "x", payload: .null).ids == ids)
    }
}
