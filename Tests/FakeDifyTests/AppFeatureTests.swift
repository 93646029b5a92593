import AsyncHTTPClient
import FakeDify
import NIOCore
import Testing

/// The app features the chat page is driven by: opening, sources, files, voice, feedback, and the directives that
/// stand for agents, chatflows and regenerated answers.
@Suite("App features and directives", .timeLimit(.minutes(3)))
struct AppFeatureTests {
    static let source =
        #"{"position": 1, "dataset_id": "0d9a2b84-5c1e-4f3a-9b7d-2e6c8a4f1b3d", "dataset_name": "Tutor notes", "document_id": "6f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b", "document_name": "Fractions.md", "segment_id": "a1b2c3d4-e5f6-4789-8abc-def012345678", "score": 0.87, "content": "A fraction is a part of a whole."}"#

    @Test func optionsShapeTheParametersAndResetRestoresThem() async throws {
        try await withFakeDify { server, http in
            let plain = try await http.send(.GET, "/v1/parameters").json
            #expect(plain["opening_statement"].string == "Hello! I am a fake Dify chat app.")
            #expect(plain["suggested_questions"].array.isEmpty && plain["retriever_resource"]["enabled"].bool == false)
            #expect(plain["file_upload"].keys == ["image"] && plain["file_upload"]["image"]["enabled"].bool == false)
            #expect(plain["speech_to_text"]["enabled"].bool == true && plain["text_to_speech"]["enabled"].bool == true)

            let set = try await http.send(
                .POST, "/_fake/options",
                json: """
                    {"opening_statement": "Welcome!", "suggested_questions": ["What is a fraction?", "Why?"],
                     "retriever_resources": [\(Self.source)], "speech_to_text_enabled": false,
                     "text_to_speech_enabled": false,
                     "file_upload": {"enabled": true, "allowed_file_types": ["document"], "number_limits": 2}}
                    """, auth: nil)
            #expect(set.status == 200)
            let changed = try await http.send(.GET, "/v1/parameters").json
            #expect(changed["opening_statement"].string == "Welcome!")
            #expect(changed["suggested_questions"].array.compactMap(\.string) == ["What is a fraction?", "Why?"])
            #expect(changed["retriever_resource"]["enabled"].bool == true)
            #expect(changed["file_upload"].keys == ["enabled", "allowed_file_types", "number_limits"])
            #expect(
                changed["speech_to_text"]["enabled"].bool == false && changed["text_to_speech"]["enabled"].bool == false
            )
            let chat = try await http.chat("hi")
            let conversations = try await http.send(.GET, "/v1/conversations?user=u1").json
            #expect(conversations["data"][0]["introduction"].string == "Welcome!" && chat.status == 200)
            let speech = try await http.send(.POST, "/v1/audio-to-text", json: "{}")
            #expect(
                speech.body == #"{"code": "invalid_param", "message": "Speech to text is not enabled", "status": 400}"#)

            let bad = try await http.send(.POST, "/_fake/options", json: #"{"answer_style": "poetry"}"#, auth: nil)
            #expect(bad.status == 400)
            let defaultShape = try await http.send(.POST, "/_fake/options", json: #"{"file_upload": null}"#, auth: nil)
            #expect(defaultShape.status == 200)
            #expect(try await http.send(.GET, "/v1/parameters").json["file_upload"].keys == ["image"])

            _ = try await http.send(.POST, "/_fake/reset", auth: nil)
            let reset = await server.store.options
            #expect(reset.openingStatement == "Hello! I am a fake Dify chat app." && reset.retrieverResources.isEmpty)
            #expect(reset.speechToTextEnabled && reset.fileUpload == nil && reset.answerStyle == .echo)
        }
    }

    @Test func sourcesOnEveryAnswerAndKeptWithIt() async throws {
        var options = FakeDifyOptions()
        options.retrieverResources = [
            FakeDifyRetrieverResource(
                position: 1, datasetID: "d1", datasetName: "Tutor notes", documentID: "doc1",
                documentName: "Fractions.md", segmentID: "s1", score: 0.87, content: "A fraction is a part of a whole.")
        ]
        try await withFakeDify(options) { _, http in
            let blocking = try await http.chat("What is a fraction?").json
            let cited = blocking["metadata"]["retriever_resources"].array
            #expect(cited.count == 1 && cited[0]["document_name"].string == "Fractions.md")
            #expect(
                cited[0]["score"].double == 0.87 && cited[0]["content"].string == "A fraction is a part of a whole.")
            #expect(
                cited[0].keys == [
                    "position", "dataset_id", "dataset_name", "document_id", "document_name", "segment_id", "score",
                    "content",
                ])
            let conversation = try #require(blocking["conversation_id"].string)
            let (stream, _) = try await http.stream(
                json: chatBody("Again", conversationID: conversation, streaming: true))
            let end = try #require(sseEvents(stream.body).last)
            #expect(end["event"].string == "message_end")
            #expect(end["metadata"]["retriever_resources"][0]["segment_id"].string == "s1")
            let listed = try await http.send(.GET, "/v1/messages?user=u1&conversation_id=\(conversation)").json["data"]
            #expect(
                listed.array.map { $0["retriever_resources"][0]["dataset_name"].string } == [
                    "Tutor notes", "Tutor notes",
                ])
        }
    }

    @Test func varyCountsTheSameQueryInItsConversation() async throws {
        try await withFakeDify { _, http in
            let first = try await http.chat("/vary Tell me a joke").json
            #expect(first["answer"].string == "Tell me a joke #1")
            let conversation = try #require(first["conversation_id"].string)
            let again = try await http.chat("/vary Tell me a joke", conversationID: conversation).json
            #expect(again["answer"].string == "Tell me a joke #2")
            let other = try await http.chat("/vary Another", conversationID: conversation).json
            #expect(other["answer"].string == "Another #1")
            let (third, _) = try await http.stream(
                json: chatBody("/vary Tell me a joke", conversationID: conversation, streaming: true))
            #expect(sseEvents(third.body).compactMap { $0["answer"].string }.joined() == "Tell me a joke #3")
            #expect(try await http.chat("/vary Tell me a joke").json["answer"].string == "Tell me a joke #1")
        }
        #expect(FakeDifyAnswer.answer(for: "/vary x", asked: 4) == "x #4")
    }

    @Test func agentStreamsAToolStepThenAgentMessages() async throws {
        try await withFakeDify { _, http in
            let (r, _) = try await http.stream(json: chatBody("/agent weather in Paris", streaming: true))
            let events = sseEvents(r.body)
            let names = events.compactMap { $0["event"].string }
            #expect(names.prefix(2) == ["agent_thought", "agent_thought"] && names.last == "message_end")
            #expect(Set(names.dropFirst(2).dropLast()) == ["agent_message"])
            #expect(events.compactMap { $0["answer"].string }.joined() == "Echo: weather in Paris")
            let (called, observed) = (events[0], events[1])
            #expect(called["id"].string == observed["id"].string && called["position"].int == 1)
            #expect(called["tool"].string == "web_search" && called["observation"].string == "")
            #expect(called["tool_input"].string == #"{"web_search":{"query":"weather in Paris"}}"#)
            #expect(observed["observation"].string == #"{"web_search":"Found 3 pages about weather in Paris."}"#)
            #expect(called["task_id"].string != nil && called["message_files"].array.isEmpty)
            #expect(called["thought"].string == "I will search the web for weather in Paris.")

            let conversation = try #require(events[0]["conversation_id"].string)
            let item = try await http.send(.GET, "/v1/messages?user=u1&conversation_id=\(conversation)").json["data"][0]
            let thought = item["agent_thoughts"][0]
            #expect(thought["id"].string == called["id"].string && thought["message_id"].string == item["id"].string)
            #expect(
                thought["observation"].string == observed["observation"].string
                    && thought["tool"].string == "web_search")
            #expect(thought["files"].array.isEmpty && thought["chain_id"].isNull)
            #expect(try await http.chat("/agent hi").json["mode"].string == "agent-chat")
        }
    }

    @Test func workflowStreamsChatflowEventsAroundTheAnswer() async throws {
        try await withFakeDify { _, http in
            let (r, _) = try await http.stream(json: chatBody("/workflow /answer Done.", streaming: true))
            let events = sseEvents(r.body)
            let names = events.compactMap { $0["event"].string }
            #expect(
                names == [
                    "workflow_started", "node_started", "node_finished", "node_started", "message", "node_finished",
                    "node_started", "node_finished", "workflow_finished", "message_end",
                ])
            let run = try #require(events[0]["workflow_run_id"].string)
            let flow = events.filter { $0["workflow_run_id"].exists }
            #expect(flow.count == 8 && flow.allSatisfy { $0["workflow_run_id"].string == run && $0["task_id"].exists })
            #expect(events[0]["data"]["id"].string == run && events[0]["data"]["inputs"]["sys.query"].exists)
            #expect(events[1]["data"]["node_type"].string == "start" && events[3]["data"]["node_type"].string == "llm")
            #expect(events[1]["data"]["id"].string == events[2]["data"]["id"].string)
            #expect(
                events[5]["data"]["outputs"]["text"].string == "Done."
                    && events[5]["data"]["status"].string == "succeeded")
            #expect(events[4]["from_variable_selector"].array.compactMap(\.string) == ["llm", "text"])
            let finished = events[8]["data"]
            #expect(finished["status"].string == "succeeded" && finished["outputs"]["answer"].string == "Done.")
            #expect(finished["total_steps"].int == 3 && finished["created_by"]["user"].string == "u1")
            #expect(try await http.chat("/workflow hi").json["mode"].string == "advanced-chat")
        }
    }

    @Test func aStoppedWorkflowFinishesAsStoppedBeforeMessageEnd() async throws {
        // A minute of answer: the stop lands in the middle however slow the machine.
        try await withFakeDify(FakeDifyOptions(tokenDelay: .milliseconds(100))) { _, http in
            let response = try await HTTPClient.shared.execute(
                http.request(.POST, "/v1/chat-messages", json: chatBody("/workflow /tokens 600", streaming: true)),
                timeout: .seconds(90))
            var body = ""
            var stopped = false
            for try await buffer in response.body {
                body += String(buffer: buffer)
                let events = sseEvents(body)
                if !stopped, events.contains(where: { $0["event"].string == "message" }),
                    let task = events[0]["task_id"].string
                {
                    stopped = true
                    _ = try await http.send(.POST, "/v1/chat-messages/\(task)/stop", json: #"{"user": "u1"}"#)
                }
            }
            let events = sseEvents(body)
            #expect(events.suffix(2).compactMap { $0["event"].string } == ["workflow_finished", "message_end"])
            let finished = events[events.count - 2]["data"]
            let partial = events.filter { $0["event"].string == "message" }.compactMap { $0["answer"].string }.joined()
            #expect(finished["status"].string == "stopped" && finished["outputs"]["answer"].string == partial)
        }
    }

    @Test func fileStreamsTheAssistantsFileBeforeTheAnswer() async throws {
        try await withFakeDify { _, http in
            let url = "https://files.example/chart.png"
            let (r, _) = try await http.stream(json: chatBody("/file \(url)", streaming: true))
            let events = sseEvents(r.body)
            #expect(events.first?["event"].string == "message_file")
            let file = events[0]
            #expect(file["type"].string == "image" && file["belongs_to"].string == "assistant")
            #expect(file["url"].string == url && file["id"].string?.count == 36 && file["task_id"].exists)
            #expect(events.compactMap { $0["answer"].string }.joined() == "Here is the file.")

            let conversation = try #require(file["conversation_id"].string)
            let item = try await http.send(.GET, "/v1/messages?user=u1&conversation_id=\(conversation)").json["data"][0]
            let listed = item["message_files"][0]
            #expect(listed["id"].string == file["id"].string && listed["belongs_to"].string == "assistant")
            #expect(listed["url"].string == url && listed["filename"].string == "chart.png")
            #expect(listed["mime_type"].string == "image/png" && listed["transfer_method"].string == "tool_file")
            #expect(try await http.chat("/file \(url) /answer Your chart.").json["answer"].string == "Your chart.")
        }
    }

    @Test func textToAudioIsPlayableMP3() async throws {
        try await withFakeDify { _, http in
            func speech(_ json: String) async throws -> (type: String?, bytes: [UInt8]) {
                let response = try await HTTPClient.shared.execute(
                    http.request(.POST, "/v1/text-to-audio", json: json), timeout: .seconds(30))
                let body = try await response.body.collect(upTo: 1 << 20)
                return (response.headers.first(name: "Content-Type"), Array(body.readableBytesView))
            }
            let (type, bytes) = try await speech(#"{"text": "Hello there", "user": "u1"}"#)
            #expect(type == "audio/mpeg")
            // 144-byte MPEG-1 Layer III frames, back to back: a decoder finds a header at every frame boundary.
            #expect(bytes.count % 144 == 0 && bytes.count / 144 >= 28)
            #expect(
                stride(from: 0, to: bytes.count, by: 144).allSatisfy {
                    Array(bytes[$0..<$0 + 4]) == [0xFF, 0xFB, 0x18, 0xC4]
                })
            let longer = try await speech(#"{"text": "\#(String(repeating: "a", count: 100))"}"#)
            #expect(longer.bytes.count == 100 * 144)
        }
    }

    @Test func feedbacksAreListedNewestLast() async throws {
        try await withFakeDify { _, http in
            let message = try #require(try await http.chat("Rate me").json["id"].string)
            let path = "/v1/messages/\(message)/feedbacks"
            _ = try await http.send(.POST, path, json: #"{"user": "u1", "rating": "dislike", "content": "Too vague"}"#)
            _ = try await http.send(.POST, path, json: #"{"user": "u1", "rating": null}"#)
            _ = try await http.send(.POST, path, json: #"{"user": "someone-else", "rating": "like"}"#)
            let listed = try await http.send(.GET, "/_fake/feedbacks", auth: nil).json["data"].array
            #expect(listed.count == 2)
            #expect(listed[0]["message_id"].string == message && listed[0]["rating"].string == "dislike")
            #expect(listed[0]["content"].string == "Too vague" && listed[0]["user"].string == "u1")
            #expect(listed[1]["rating"].isNull && listed[1]["content"].isNull)
            _ = try await http.send(.POST, "/_fake/reset", auth: nil)
            #expect(try await http.send(.GET, "/_fake/feedbacks", auth: nil).json["data"].array.isEmpty)
        }
    }

    @Test func demoPresetShowsThePageOff() async throws {
        try await withFakeDify(.demo(apiKeys: [DifyHTTP.key])) { server, http in
            let parameters = try await http.send(.GET, "/v1/parameters").json
            #expect(parameters["opening_statement"].string?.isEmpty == false)
            #expect(parameters["suggested_questions"].array.count == 3)
            #expect(parameters["retriever_resource"]["enabled"].bool == true)
            let upload = parameters["file_upload"]
            #expect(upload["enabled"].bool == true && upload["image"]["enabled"].bool == true)
            #expect(upload["allowed_file_types"].array.compactMap(\.string) == ["image", "document"])
            #expect(upload["allowed_file_upload_methods"].array.count == 2 && upload["number_limits"].int == 3)
            #expect(upload["allowed_file_extensions"].exists)
            #expect(parameters["speech_to_text"]["enabled"].bool == true)

            let answer = try await http.chat("How do fractions work?").json
            let text = try #require(answer["answer"].string)
            #expect(text.contains("> How do fractions work?"))
            for part in ["| Feature |", "```python", "$$\ne^{i\\pi} + 1 = 0\n$$", "**demo upstream**"] {
                #expect(text.contains(part), "the demo answer has \(part)")
            }
            #expect(try await http.chat("How do fractions work?").json["answer"].string == text)
            #expect(answer["metadata"]["retriever_resources"].array.count == 2)
            #expect(try await http.chat("/answer plain").json["answer"].string == "plain")
            #expect(try await http.chat("/tokens 2").json["answer"].string == "tok1 tok2")
            _ = try await http.send(.POST, "/_fake/reset", auth: nil)
            #expect(await server.store.options.answerStyle == .demo)
        }
    }
}
