import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import ChatGateway

/// Wire fixtures and helpers shared by the `DifyStreamParser` test suites.
enum DifyStreamFixtures {
    static let taskID = "c3800678-a077-43df-a102-53f23ed20b88"
    static let messageID = "9da23599-e713-473b-982c-4328d4f5c78a"
    static let conversationID = "45701982-8118-4bc5-8e9b-64562b4555f2"
    static let createdAt = 1_705_407_629

    /// The envelope every message-level event of the fixtures carries.
    static let ids = DifyStreamIDs(
        taskID: taskID, messageID: messageID, conversationID: conversationID, createdAt: createdAt)

    // MARK: Line endings

    enum LineEnding: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case lf = "\n", crlf = "\r\n", cr = "\r"
        var testDescription: String {
            switch self {
            case .lf: "LF"
            case .crlf: "CRLF"
            case .cr: "CR"
            }
        }
    }

    /// The fixture text (written with `\n`) with every line ending replaced. Data JSON never holds a raw newline.
    static func bytes(_ text: String, _ ending: LineEnding = .lf) -> [UInt8] {
        Array(text.replacingOccurrences(of: "\n", with: ending.rawValue).utf8)
    }

    // MARK: Feeding

    /// Feeds `bytes` whole, then finishes.
    static func parseWhole(_ bytes: [UInt8], maxEventBytes: Int = 4 * 1024 * 1024) -> [DifyStreamEvent] {
        var parser = DifyStreamParser(maxEventBytes: maxEventBytes)
        return decoded(parser.feedFrames(bytes) + parser.finishFrames())
    }

    /// Feeds `bytes` cut at the given (sorted) offsets, then finishes.
    static func parse(_ bytes: [UInt8], cuts: [Int], maxEventBytes: Int = 4 * 1024 * 1024) -> [DifyStreamEvent] {
        var parser = DifyStreamParser(maxEventBytes: maxEventBytes)
        var frames: [SSEFrame] = []
        var start = 0
        for cut in cuts + [bytes.count] {
            frames += parser.feedFrames(bytes[start..<cut])
            start = cut
        }
        return decoded(frames + parser.finishFrames())
    }

    /// Feeds `bytes` one byte per read, then finishes.
    static func parseByteByByte(_ bytes: [UInt8], maxEventBytes: Int = 4 * 1024 * 1024) -> [DifyStreamEvent] {
        var parser = DifyStreamParser(maxEventBytes: maxEventBytes)
        var frames: [SSEFrame] = []
        for byte in bytes { frames += parser.feedFrames(CollectionOfOne(byte)) }
        return decoded(frames + parser.finishFrames())
    }

    /// The split tests frame the same events hundreds of thousands of times: each distinct frame is decoded once.
    private static let decodedFrames = NIOLockedValueBox<[SSEFrame: DifyStreamEvent]>([:])

    static func decoded(_ frames: [SSEFrame]) -> [DifyStreamEvent] {
        frames.map { frame in
            if let event = decodedFrames.withLockedValue({ $0[frame] }) { return event }
            let event = DifyStreamEvent(frame)
            decodedFrames.withLockedValue { $0[frame] = event }
            return event
        }
    }

    static func json(_ text: String) -> JSONValue {
        do { return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) } catch {
            fatalError("fixture JSON does not parse: \(error)\n\(text)")
        }
    }

    // MARK: The realistic chat stream

    static func messageLine(_ answer: String) -> String {
        #"data: {"event":"message","conversation_id":"\#(conversationID)","message_id":"\#(messageID)","created_at":\#(createdAt),"task_id":"\#(taskID)","id":"\#(messageID)","answer":"\#(answer)","from_variable_selector":null}"#
    }

    static let chatUsage: JSONValue = .object([
        "prompt_tokens": .number(12), "prompt_price": .string("0.000012"),
        "completion_tokens": .number(9), "completion_price": .string("0.000018"),
        "total_tokens": .number(21), "total_price": .string("0.000030"),
        "currency": .string("USD"), "latency": .number(0.73),
    ])

    /// A chat app's answer: Korean and an emoji in deltas, a keep-alive, then `message_end` with usage.
    static let chatStream = """
        \(messageLine("안녕"))

        \(messageLine("하세요 😀"))

        event: ping

        \(messageLine(" 무엇을 도와드릴까요?"))

        data: {"event":"message_end","conversation_id":"\(conversationID)","message_id":"\(messageID)","created_at":\(createdAt),"task_id":"\(taskID)","id":"\(messageID)","metadata":{"annotation_reply":null,"retriever_resources":[],"usage":{"prompt_tokens":12,"prompt_price":"0.000012","completion_tokens":9,"completion_price":"0.000018","total_tokens":21,"total_price":"0.000030","currency":"USD","latency":0.73}},"files":[]}


        """

    static let chatEvents: [DifyStreamEvent] = [
        .answerDelta(ids, text: "안녕"),
        .answerDelta(ids, text: "하세요 😀"),
        .ping,
        .answerDelta(ids, text: " 무엇을 도와드릴까요?"),
        .messageEnd(
            ids,
            metadata: .object([
                "annotation_reply": .null, "retriever_resources": .array([]), "usage": chatUsage,
            ])),
    ]

    // MARK: A compact stream (at most ~400 bytes, for every 3-chunk split)

    static let compactIDs = DifyStreamIDs(taskID: "t1", messageID: "m1", conversationID: "c1", createdAt: 7)

    static let compactStream = """
        data: {"event":"message","conversation_id":"c1","message_id":"m1","created_at":7,"task_id":"t1","answer":"안녕"}

        data:{"event":"message","conversation_id":"c1","message_id":"m1","created_at":7,"task_id":"t1","answer":"하세요 😀"}

        event: ping

        data: {"event":"message_end","conversation_id":"c1","message_id":"m1","created_at":7,"task_id":"t1","metadata":{"usage":{"total_tokens":3}}}


        """

    static let compactEvents: [DifyStreamEvent] = [
        .answerDelta(compactIDs, text: "안녕"),
        .answerDelta(compactIDs, text: "하세요 😀"),
        .ping,
        .messageEnd(compactIDs, metadata: .object(["usage": .object(["total_tokens": .number(3)])])),
    ]

    // MARK: The wire example of dify-api.md section 3, verbatim but for the elided ids

    static let docWireExample = """
        data: {"event":"message","conversation_id":"45701982-8118-4bc5-8e9b-64562b4555f2","message_id":"9da23599-e713-473b-982c-4328d4f5c78a","created_at":1705407629,"task_id":"c3800678-a077-43df-a102-53f23ed20b88","id":"9da23599-e713-473b-982c-4328d4f5c78a","answer":"Hel","from_variable_selector":null}

        data: {"event":"message","conversation_id":"45701982-8118-4bc5-8e9b-64562b4555f2","message_id":"9da23599-e713-473b-982c-4328d4f5c78a","created_at":1705407629,"task_id":"c3800678-a077-43df-a102-53f23ed20b88","id":"9da23599-e713-473b-982c-4328d4f5c78a","answer":"lo","from_variable_selector":null}

        event: ping

        data: {"event":"message_end","conversation_id":"45701982-8118-4bc5-8e9b-64562b4555f2","message_id":"9da23599-e713-473b-982c-4328d4f5c78a","created_at":1705407629,"task_id":"c3800678-a077-43df-a102-53f23ed20b88","id":"9da23599-e713-473b-982c-4328d4f5c78a","metadata":{"annotation_reply":null,"retriever_resources":[],"usage":{"prompt_tokens":12,"prompt_unit_price":"0.001","prompt_price_unit":"0.001","prompt_price":"0.000012","completion_tokens":2,"completion_unit_price":"0.002","completion_price_unit":"0.001","completion_price":"0.000004","total_tokens":14,"total_price":"0.000016","currency":"USD","latency":0.42}},"files":[]}


        """

    static let docWireEvents: [DifyStreamEvent] = [
        .answerDelta(ids, text: "Hel"),
        .answerDelta(ids, text: "lo"),
        .ping,
        .messageEnd(
            ids,
            metadata: .object([
                "annotation_reply": .null,
                "retriever_resources": .array([]),
                "usage": .object([
                    "prompt_tokens": .number(12), "prompt_unit_price": .string("0.001"),
                    "prompt_price_unit": .string("0.001"), "prompt_price": .string("0.000012"),
                    "completion_tokens": .number(2), "completion_unit_price": .string("0.002"),
                    "completion_price_unit": .string("0.001"), "completion_price": .string("0.000004"),
                    "total_tokens": .number(14), "total_price": .string("0.000016"),
                    "currency": .string("USD"), "latency": .number(0.42),
                ]),
            ])),
    ]

    // MARK: A long stream with every kind of event, line ending and framing feature

    /// Pieces of wire text, each with the events it must produce. Line endings are mixed on purpose; the last
    /// piece has no line ending at all (a stream cut right after its last `data:` line), so `finish()` delivers it.
    static let allKindsPieces: [(wire: String, events: [DifyStreamEvent])] = {
        let envelope =
            #""conversation_id":"\#(conversationID)","message_id":"\#(messageID)","created_at":\#(createdAt),"task_id":"\#(taskID)""#
        let workflowStarted =
            #"{"event":"workflow_started",\#(envelope),"workflow_run_id":"7c3e1f0a-2b4d-4e5f-8a9b-0c1d2e3f4a5b","data":{"id":"7c3e1f0a-2b4d-4e5f-8a9b-0c1d2e3f4a5b","workflow_id":"wf-1","inputs":{"language":"ko"},"created_at":1705407629}}"#
        let nodeStarted =
            #"{"event":"node_started",\#(envelope),"workflow_run_id":"7c3e1f0a-2b4d-4e5f-8a9b-0c1d2e3f4a5b","data":{"id":"n-1","node_id":"llm","node_type":"llm","title":"LLM","index":1,"predecessor_node_id":null,"inputs":null,"created_at":1705407629}}"#
        let agentThought =
            #"{"event":"agent_thought",\#(envelope),"id":"d1a2b3c4-0000-4000-8000-000000000001","position":1,"thought":"날씨를 찾아볼게요","observation":"","tool":"weather;search","tool_labels":{"weather":{"en_US":"Weather"}},"tool_input":"{\"city\": \"Seoul\"}","message_files":[]}"#
        let nodeFinished =
            #"{"event":"node_finished",\#(envelope),"workflow_run_id":"7c3e1f0a-2b4d-4e5f-8a9b-0c1d2e3f4a5b","data":{"id":"n-1","node_id":"llm","status":"succeeded","outputs":{"text":"안녕"},"error":null,"elapsed_time":1.25}}"#
        let workflowFinished =
            #"{"event":"workflow_finished",\#(envelope),"workflow_run_id":"7c3e1f0a-2b4d-4e5f-8a9b-0c1d2e3f4a5b","data":{"id":"7c3e1f0a-2b4d-4e5f-8a9b-0c1d2e3f4a5b","status":"succeeded","outputs":{"answer":"안녕"},"total_tokens":21,"total_steps":3}}"#
        let iteration =
            #"{"event":"iteration_next",\#(envelope),"workflow_run_id":"7c3e1f0a-2b4d-4e5f-8a9b-0c1d2e3f4a5b","data":{"index":2}}"#
        let tts = #"{"event":"tts_message",\#(envelope),"audio":"SUQzBAAAAAAAI1RTU0U="}"#
        let ttsEnd = #"{"event":"tts_message_end",\#(envelope),"audio":""}"#
        let unknown = #"{"event":"brand_new_event",\#(envelope),"stuff":[1,2,{"deep":true}]}"#
        func delta(_ text: String) -> DifyStreamEvent { .answerDelta(ids, text: text) }
        return [
            (
                ": a proxy's comment\nretry: 3000\nid: 1\ndata: \(workflowStarted)\n\n",
                [.workflow(ids, event: "workflow_started", payload: json(workflowStarted))]
            ),
            (
                "data: \(nodeStarted)\r\n\r\n",
                [.workflow(ids, event: "node_started", payload: json(nodeStarted))]
            ),
            (messageLine("안녕하세요 😀") + "\n\n", [delta("안녕하세요 😀")]),
            ("event: ping\r\r", [.ping]),
            // json.dumps style: spaces after separators, \uXXXX escapes (a surrogate pair for the emoji).
            (
                #"data: {"event": "message", "conversation_id": "\#(conversationID)", "message_id": "\#(messageID)", "created_at": \#(createdAt), "task_id": "\#(taskID)", "id": "\#(messageID)", "answer": "\ud55c\uad6d\uc5b4 \ud83d\ude00", "from_variable_selector": null}"#
                    + "\r\n\n",
                [delta("한국어 😀")]
            ),
            (
                #"data: {"event":"agent_message",\#(envelope),"id":"\#(messageID)","answer":"¿Qué tal? ñ"}"# + "\n\r\n",
                [delta("¿Qué tal? ñ")]
            ),
            ("data: \(agentThought)\n\n", [.agentThought(ids, payload: json(agentThought))]),
            (
                #"data: {"event":"message_file",\#(envelope),"id":"f0e1d2c3-1111-4222-8333-444455556666","type":"image","belongs_to":"assistant","url":"https://files.example.com/a.png?sig=x%2By"}"#
                    + "\n\n",
                [
                    .messageFile(
                        ids, id: "f0e1d2c3-1111-4222-8333-444455556666", type: "image",
                        url: "https://files.example.com/a.png?sig=x%2By", belongsTo: "assistant")
                ]
            ),
            // One event's JSON spread over three `data:` lines (the second without the optional space), CRLF.
            (
                "data: {\"event\":\"message\",\(envelope),\r\ndata:\"answer\":\r\n: a comment inside the event\r\ndata: \"여러 줄\"}\r\n\r\n",
                [delta("여러 줄")]
            ),
            (
                #"data: {"event":"message_replace",\#(envelope),"answer":"[moderated] 🙈","reason":"output_moderation"}"#
                    + "\n\n",
                [.answerReplace(ids, text: "[moderated] 🙈")]
            ),
            ("data: \(iteration)\r\n\r\n", [.workflow(ids, event: "iteration_next", payload: json(iteration))]),
            (
                "data: \(tts)\n\ndata: \(ttsEnd)\n\n",
                [
                    .other(event: "tts_message", payload: json(tts)),
                    .other(event: "tts_message_end", payload: json(ttsEnd)),
                ]
            ),
            ("event: message\ndata: \(unknown)\n\n", [.other(event: "brand_new_event", payload: json(unknown))]),
            (
                "data: \(nodeFinished)\r\rdata: \(workflowFinished)\r\n\r\n",
                [
                    .workflow(ids, event: "node_finished", payload: json(nodeFinished)),
                    .workflow(ids, event: "workflow_finished", payload: json(workflowFinished)),
                ]
            ),
            ("data: {\"event\":\"ping\"}\n\n", [.ping]),
            ("data: <html>502 Bad Gateway</html>\n\n", [.malformed("<html>502 Bad Gateway</html>")]),
            // Blank lines between events and a name-only event dispatch nothing.
            ("\n\n\r\nevent: mystery\n\n", []),
            (
                "data: {\"event\":\"message_end\",\(envelope),\"id\":\"\(messageID)\",\"metadata\":{\"usage\":{\"total_tokens\":21,\"total_price\":\"0.000030\"},\"retriever_resources\":[{\"position\":1,\"dataset_name\":\"위키\",\"score\":0.87}]},\"files\":null}\n\n",
                [
                    .messageEnd(
                        ids,
                        metadata: json(
                            #"{"usage":{"total_tokens":21,"total_price":"0.000030"},"retriever_resources":[{"position":1,"dataset_name":"위키","score":0.87}]}"#
                        ))
                ]
            ),
            (
                #"data: {"event":"error","conversation_id":"\#(conversationID)","message_id":"\#(messageID)","created_at":\#(createdAt),"status":500,"code":"internal_server_error","message":"Internal Server Error, please contact support."}"#,
                [
                    .error(
                        status: 500, code: "internal_server_error",
                        message: "Internal Server Error, please contact support.")
                ]
            ),
        ]
    }()

    static let allKindsStream: [UInt8] = Array(allKindsPieces.map(\.wire).joined().utf8)
    static let allKindsEvents: [DifyStreamEvent] = allKindsPieces.flatMap(\.events)
}

/// SplitMix64: a small, seeded, deterministic generator for the property-style tests.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
