import AsyncHTTPClient
import FakeDify
import Foundation
import Testing

@Suite("Injected faults", .timeLimit(.minutes(3)))
struct FaultTests {
    @Test func httpErrorAndNonJSON() async throws {
        try await withFakeDify { server, http in
            await server.store.setFault(
                .httpError(status: 400, code: "provider_quota_exceeded", message: "Quota gone."))
            let quota = try await http.chat("hi")
            #expect(quota.status == 400)
            #expect(quota.body == #"{"code": "provider_quota_exceeded", "message": "Quota gone.", "status": 400}"#)
            // Auth still comes first.
            #expect(try await http.send(.POST, "/v1/chat-messages", json: chatBody("hi"), auth: nil).status == 401)

            await server.store.setFault(.nonJSONError(status: 502))
            let proxy = try await http.chat("hi", extra: "")
            #expect(proxy.status == 502 && proxy.headers.first(name: "Content-Type") == "text/html")
            #expect(proxy.body.contains("502 Bad Gateway") && !proxy.json.exists)
            // Faults touch chat-messages only.
            #expect(try await http.send(.GET, "/v1/conversations?user=u1").status == 200)
            await server.store.setFault(nil)
            #expect(try await http.chat("hi").status == 200)
            #expect(await server.store.chatRequestCount == 4)
        }
    }

    @Test func malformedJSON() async throws {
        try await withFakeDify { server, http in
            await server.store.setFault(.malformedJSON)
            let blocking = try await http.chat("hi")
            #expect(blocking.status == 200 && !blocking.json.exists)
            let (stream, _) = try await http.stream(json: chatBody("hi", streaming: true))
            let dataFrames = sseFrames(stream.body).filter { $0.hasPrefix("data: ") }
            #expect(!dataFrames.isEmpty)
            #expect(dataFrames.contains { !JSONDoc(parsing: String($0.dropFirst(6))).exists })
        }
    }

    @Test func streamCut() async throws {
        try await withFakeDify { server, http in
            await server.store.setFault(.streamCut(afterChunks: 2))
            let (body, broke) = try await http.streamUntilBroken(
                json: chatBody("/tokens 10", user: "cut", streaming: true))
            #expect(broke, "the connection drops without the final chunk")
            let events = sseEvents(body)
            #expect(events.map { $0["event"].string } == ["message", "message"])
            let conversation = try #require(events.first?["conversation_id"].string)
            let history = try await http.send(.GET, "/v1/messages?user=cut&conversation_id=\(conversation)")
            #expect(history.json["data"][0]["answer"].string == "tok1 tok2 ")

            let blocking = await #expect(throws: (any Error).self) { try await http.chat("/tokens 10") }
            _ = blocking
        }
    }

    @Test func streamError() async throws {
        try await withFakeDify { server, http in
            await server.store.setFault(.streamError(afterChunks: 3))
            let (r, _) = try await http.stream(json: chatBody("/tokens 10", user: "err", streaming: true))
            #expect(r.status == 200)
            let events = sseEvents(r.body)
            #expect(events.map { $0["event"].string } == ["message", "message", "message", "error"])
            let error = events[3]
            #expect(!error["task_id"].exists)
            #expect(error["code"].string == FakeDifyFaultTexts.streamErrorCode)
            #expect(error["status"].int == FakeDifyFaultTexts.streamErrorStatus)
            #expect(error["message"].string == FakeDifyFaultTexts.streamErrorMessage)
            let conversation = try #require(error["conversation_id"].string)
            let item = try await http.send(.GET, "/v1/messages?user=err&conversation_id=\(conversation)").json["data"][
                0]
            #expect(item["status"].string == "error" && item["error"].string == FakeDifyFaultTexts.streamErrorMessage)
            #expect(item["answer"].string == "tok1 tok2 tok3 ")

            let blocking = try await http.chat("hi", user: "err")
            #expect(blocking.status == 400 && blocking.json["code"].string == FakeDifyFaultTexts.streamErrorCode)
        }
    }

    @Test func hangUntilReleased() async throws {
        try await withFakeDify { server, http in
            await server.store.setFault(.hang)
            // No answer within the client's timeout: the request is held, not answered.
            await #expect(throws: (any Error).self) {
                try await http.send(.POST, "/v1/chat-messages", json: chatBody("hi"), timeout: .milliseconds(300))
            }
            // The event loop is still free for other requests while one hangs.
            let held = Task { try await http.send(.POST, "/v1/chat-messages", json: chatBody("hi")) }
            let info = try await http.send(.GET, "/v1/info")
            #expect(info.status == 200)
            // Release only once both requests really hang (a loaded machine may not have sent them yet).
            while await server.store.hangingRequestCount < 2 { try await Task.sleep(for: .milliseconds(25)) }
            await server.store.setFault(nil)
            let released = try await held.value
            #expect(released.status == 503)
            let next = try await http.chat("hi")
            #expect(next.status == 200)
            #expect(await server.store.chatRequestCount == 3)
        }
    }

    @Test func shutdownReleasesHungRequests() async throws {
        let server = try await FakeDifyServer.start()
        await server.store.setFault(.hang)
        let http = DifyHTTP(baseURL: server.baseURL)
        let held = Task { try await http.send(.POST, "/v1/chat-messages", json: chatBody("hi")) }
        while await server.store.hangingRequestCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        try await server.shutdown()
        let outcome = await held.result
        // The hung request is let go at shutdown with Dify's 503, instead of holding for its 30 s timeout.
        let reply = try outcome.get()
        #expect(reply.status == 503)
        #expect(reply.body.contains("hang released"))
    }
}
