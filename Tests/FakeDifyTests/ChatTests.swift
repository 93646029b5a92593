import AsyncHTTPClient
import FakeDify
import Foundation
import Testing

@Suite("Chat messages: blocking and streaming", .timeLimit(.minutes(3)))
struct ChatTests {
    @Test func blockingAnswerShape() async throws {
        try await withFakeDify { server, http in
            let r = try await http.chat("Hello there")
            #expect(r.status == 200)
            #expect(r.headers.first(name: "Content-Type") == "application/json")
            let j = r.json
            #expect(j["event"].string == "message" && j["mode"].string == "chat")
            #expect(j["answer"].string == "Echo: Hello there")
            #expect(j["id"].string == j["message_id"].string)
            #expect(j["task_id"].string?.count == 36 && j["conversation_id"].string?.count == 36)
            #expect(j["created_at"].int != nil)
            let usage = j["metadata"]["usage"]
            for key in [
                "prompt_unit_price", "prompt_price_unit", "prompt_price", "completion_unit_price",
                "completion_price_unit", "completion_price", "total_price", "currency",
            ] {
                #expect(usage[key].string != nil, "\(key) is a string")
            }
            #expect(usage["completion_tokens"].int == 3 && usage["total_tokens"].int != nil)
            #expect(usage["latency"].double != nil)
            #expect(j["metadata"]["retriever_resources"].array.isEmpty)
            #expect(await server.store.chatRequestCount == 1)
            // Non-ASCII is \u-escaped like Python's json.dumps.
            #expect(try await http.chat("/answer héllo").body.contains(#""answer": "h\u00e9llo""#))
        }
    }

    @Test func scriptedAnswers() {
        #expect(FakeDifyAnswer.answer(for: "/answer **bold** <script>x</script>") == "**bold** <script>x</script>")
        #expect(FakeDifyAnswer.answer(for: "/tokens 3") == "tok1 tok2 tok3")
        #expect(FakeDifyAnswer.answer(for: "hi") == "Echo: hi")
        let text = "안녕 하세요 😀👍🏽 mixed\nlines  and a verylongwordwithoutanyspaces"
        let chunks = FakeDifyAnswer.chunks(of: text)
        #expect(chunks.joined() == text)
        #expect(chunks.count > 6)
        #expect(FakeDifyAnswer.chunks(of: "Echo: a b") == ["Echo: ", "a ", "b"])
    }

    @Test func streamingFraming() async throws {
        try await withFakeDify { _, http in
            let query = "/answer Hello wörld, 안녕 😀 **markdown**"
            let (r, _) = try await http.stream(json: chatBody(query, streaming: true))
            #expect(r.status == 200)
            #expect(r.headers.first(name: "Content-Type") == "text/event-stream; charset=utf-8")
            let frames = sseFrames(r.body)
            #expect(r.body.hasSuffix("\n\n"))
            #expect(frames.allSatisfy { $0.hasPrefix("data: {\"event\":\"") && !$0.contains("\n") })
            let events = sseEvents(r.body)
            #expect(
                events.map { $0["event"].string ?? "" } == Array(repeating: "message", count: events.count - 1) + [
                    "message_end"
                ])
            let answer = events.dropLast().map { $0["answer"].string ?? "" }.joined()
            #expect(answer == FakeDifyAnswer.answer(for: query))
            #expect(events.count - 1 == FakeDifyAnswer.chunks(of: answer).count)
            for key in ["conversation_id", "message_id", "created_at", "task_id"] {
                #expect(Set(events.map { "\($0[key].value ?? "nil")" }).count == 1, "\(key) constant")
            }
            #expect(events.allSatisfy { $0["id"].string == $0["message_id"].string })
            let end = events.last!
            #expect(end["metadata"]["usage"]["completion_tokens"].int == events.count - 1)
            #expect(end["metadata"]["usage"]["total_price"].string != nil)
            #expect(end["metadata"]["retriever_resources"].array.isEmpty)
            // Raw UTF-8 in stream frames (orjson), not \u escapes.
            #expect(r.body.contains("wörld"))
        }
    }

    @Test func tokenDelaySpacesChunks() async throws {
        try await withFakeDify(FakeDifyOptions(tokenDelay: .milliseconds(40))) { _, http in
            let start = ContinuousClock.now
            let (r, _) = try await http.stream(json: chatBody("/tokens 6", streaming: true))
            #expect(sseEvents(r.body).count == 7)
            #expect(ContinuousClock.now - start >= .milliseconds(200))
            // Chunks arrive over time, not in one burst at the end: on a 24 s answer the first chunk is read
            // long before the end (when the client's own reads are scheduled is the loaded machine's business).
            let (early, _) = try await http.stream(json: chatBody("/tokens 600", streaming: true)) {
                $0.contains(#""event":"message""#)
            }
            #expect(!early.body.contains(#""event":"message_end""#))
        }
    }

    @Test func pingsWhileSilent() async throws {
        // A long silence against a short interval: on a loaded 2-core machine timers slip, so only a floor and
        // the ceiling of what the interval allows are asserted.
        let options = FakeDifyOptions(latency: .milliseconds(600), pingInterval: .milliseconds(50))
        try await withFakeDify(options) { _, http in
            let (r, _) = try await http.stream(json: chatBody("hi", streaming: true))
            let frames = sseFrames(r.body)
            let pings = frames.prefix { $0 == "event: ping" }.count
            #expect(pings >= 2 && pings <= 13)
            #expect(frames.dropFirst(pings).allSatisfy { $0.hasPrefix("data: ") })
        }
    }

    @Test func stopMidStream() async throws {
        // A minute of answer: the stop lands in the middle however slow the machine.
        try await withFakeDify(FakeDifyOptions(tokenDelay: .milliseconds(100))) { server, http in
            let query = "/tokens 600"
            let json = chatBody(query, user: "stopper", streaming: true)
            let response = try await HTTPClient.shared.execute(
                http.request(.POST, "/v1/chat-messages", json: json), timeout: .seconds(90))
            var body = ""
            var stopped = false
            for try await buffer in response.body {
                body += String(buffer: buffer)
                let events = sseEvents(body)
                if !stopped, events.count >= 3, let task = events[0]["task_id"].string {
                    stopped = true
                    // Another user's stop is ignored; the owner's ends the stream.
                    _ = try await http.send(.POST, "/v1/chat-messages/\(task)/stop", json: #"{"user": "someone-else"}"#)
                    let stop = try await http.send(
                        .POST, "/v1/chat-messages/\(task)/stop", json: #"{"user": "stopper"}"#)
                    #expect(stop.body == #"{"result": "success"}"#)
                }
            }
            let events = sseEvents(body)
            #expect(events.last?["event"].string == "message_end")
            let partial = events.dropLast().map { $0["answer"].string ?? "" }.joined()
            #expect(partial.count < FakeDifyAnswer.answer(for: query).count)
            #expect(FakeDifyAnswer.answer(for: query).hasPrefix(partial))
            #expect(events.last?["metadata"]["usage"]["completion_tokens"].int == events.count - 1)
            let conversation = try #require(events.last?["conversation_id"].string)
            let history = try await http.send(.GET, "/v1/messages?user=stopper&conversation_id=\(conversation)")
            #expect(history.json["data"][0]["answer"].string == partial)
            #expect(await server.store.messageCount(conversationID: conversation) == 1)
            // Unknown task ids still succeed.
            #expect(
                try await http.send(.POST, "/v1/chat-messages/whatever/stop", json: #"{"user": "u"}"#).status == 200)
            let noUser = try await http.send(.POST, "/v1/chat-messages/whatever/stop", json: "{}")
            #expect(noUser.json["message"].string == "Arg user must be provided.")
        }
    }

    @Test func clientDisconnectKeepsPartialAnswer() async throws {
        try await withFakeDify(FakeDifyOptions(tokenDelay: .milliseconds(100))) { server, http in
            let query = "/tokens 600"
            let (r, _) = try await http.stream(json: chatBody(query, user: "leaver", streaming: true)) {
                sseEvents($0).count >= 3
            }
            let conversation = try #require(sseEvents(r.body).first?["conversation_id"].string)
            var answer = ""
            let deadline = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
                let history = try await http.send(.GET, "/v1/messages?user=leaver&conversation_id=\(conversation)")
                answer = history.json["data"][0]["answer"].string ?? ""
                if !answer.isEmpty { break }
            }
            #expect(!answer.isEmpty)
            #expect(answer.count < FakeDifyAnswer.answer(for: query).count)
            #expect(await server.store.conversationIDs(user: "leaver") == [conversation])
        }
    }
}
