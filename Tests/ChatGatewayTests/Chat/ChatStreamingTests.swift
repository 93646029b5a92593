import FakeDify
import Foundation
import Testing

@testable import ChatGateway

@Suite("POST /v1/chat streaming", .hangLimit)
struct ChatStreamingTests {
    /// 20 tokens over about 2 s: the gateway relays on its event loops whatever the test's own task is doing, so a
    /// test resumed late on a loaded machine must still find the answer under way.
    static let slow = FakeDifyOptions(apiKeys: [GatewayHarness.difyKey], tokenDelay: .milliseconds(100))
    static func body(_ message: String, user: String = "u1") -> [String: Any] {
        ["system_id": "drillquiz", "user_id": user, "message": message, "stream": true]
    }
    static let expected = (1...20).map { "tok\($0)" }.joined(separator: " ")

    @Test func relaysTokensAsTheyComeAndStoresTheAnswer() async throws {
        try await GatewayHarness.with(fakeOptions: Self.slow) { gateway in
            // when
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body("/tokens 20"))
            let events = try await stream.readAll()
            // then
            #expect(stream.status == 200)
            #expect(stream.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true)
            #expect(stream.headers.first(name: "Cache-Control") == "no-cache")
            #expect(stream.headers.first(name: "X-Accel-Buffering") == "no")
            #expect(events.first?.name == "start")
            #expect(events.last?.name == "done")
            // Deltas that wait for the client (its response not started yet, or a write still in progress) merge, so
            // how many there are says how busy the machine was. That they arrive while Dify is still answering is
            // `TurnEndpointTests.listingsShowATurnInProgress`.
            let deltas = events.filter { $0.name == "delta" }
            #expect(deltas.compactMap { $0.data["text"] as? String }.joined() == Self.expected)
            let done = try #require(events.last?.data)
            #expect(done["answer"] as? String == Self.expected)
            #expect(done["stopped"] as? Bool == false)
            #expect(((done["metadata"] as? [String: Any])?["usage"] as? [String: Any])?["total_tokens"] != nil)
            let start = try #require(events.first?.data)
            #expect(start["conversation_id"] as? String == done["conversation_id"] as? String)
            #expect(start["task_id"] is String)
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.map(\.content) == ["/tokens 20", Self.expected])
            #expect(stored.map(\.status) == [.complete, .complete])
        }
    }

    @Test func acceptHeaderAlsoStreams() async throws {
        try await GatewayHarness.with { gateway in
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat",
                headers: GatewayHarness.keyHeader + [("Accept", "text/event-stream")],
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi"])
            let events = try await stream.readAll()
            #expect(events.map(\.name).first == "start")
            #expect(events.last?.data["answer"] as? String == "Echo: hi")
        }
    }

    /// Whenever the client goes away, the gateway reads Dify to the end and stores the whole answer.
    @Test(arguments: [0, 1, 4])
    func clientDisconnectStillStoresTheWholeAnswer(afterDeltas: Int) async throws {
        try await GatewayHarness.with(fakeOptions: Self.slow) { gateway in
            // given: ten seconds of answer, so the client leaves before its end however late the test reads
            let port = Int(gateway.baseURL.split(separator: ":").last!)!
            let connection = try RawHTTPConnection(port: port)
            try connection.sendPOST(path: "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body("/tokens 100"))
            // when
            await connection.read(until: afterDeltas == 0 ? "\r\n\r\n" : "event: delta", count: max(afterDeltas, 1))
            connection.close()
            // then
            #expect(!connection.received.contains("event: done"))
            let answer = try await Self.waitForAnswer(gateway, user: "u1")
            #expect(answer?.content == (1...100).map { "tok\($0)" }.joined(separator: " "))
            #expect(answer?.status == .complete)
        }
    }

    @Test func difyStreamCutMidAnswer() async throws {
        try await GatewayHarness.with(fakeOptions: Self.slow) { gateway in
            // A cut right after the last chunk can reach the client in the same read and take the chunks with it; cut later.
            await gateway.fake.store.setFault(.streamCut(afterChunks: 10))
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body("/tokens 20"))
            let events = try await stream.readAll()
            #expect(events.last?.name == "error")
            #expect(events.last?.data["status"] as? Int == 502)
            // What the user saw is what is stored: a non-empty prefix of the answer, marked failed.
            let seen = events.filter { $0.name == "delta" }.compactMap { $0.data["text"] as? String }.joined()
            #expect(!seen.isEmpty)
            #expect(Self.expected.hasPrefix(seen))
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.first?.content == "/tokens 20")
            #expect(stored.last?.role == "assistant")
            #expect(stored.last?.status == .failed)
            #expect(stored.last?.content == seen)
            #expect(stored.last?.error?.isEmpty == false)
        }
    }

    @Test func difyErrorEvent() async throws {
        try await GatewayHarness.with(fakeOptions: Self.slow) { gateway in
            await gateway.fake.store.setFault(.streamError(afterChunks: 2))
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body("/tokens 20"))
            let events = try await stream.readAll()
            #expect(events.last?.name == "error")
            #expect(events.last?.data["detail"] as? String == "Chat service temporarily unavailable. Please try again.")
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.last?.status == .failed)
            #expect(stored.last?.content == "tok1 tok2 ")
        }
    }

    @Test func upstreamRefusalBeforeTheStreamIsAnHTTPError() async throws {
        try await GatewayHarness.with { gateway in
            await gateway.fake.store.setFault(.httpError(status: 500, code: "internal_server_error", message: "down"))
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body("hello"))
            #expect(reply.status == 502)
            #expect(reply.detail != nil)
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.map(\.status) == [.failed])
        }
    }

    @Test func stopKeepsWhatArrivedMarkedStopped() async throws {
        try await GatewayHarness.with(
            fakeOptions: FakeDifyOptions(apiKeys: [GatewayHarness.difyKey], tokenDelay: .milliseconds(100))
        ) { gateway in
            // A minute of answer: the stop lands in the middle however slow the machine.
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body("/tokens 600"))
            let start = try #require(try await stream.next())
            let taskID = try #require(start.data["task_id"] as? String)
            _ = try await stream.next()
            // Another user may not stop it.
            let intruder = try await gateway.call(
                .POST, "/v1/chat/\(taskID)/stop", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u2"])
            #expect(intruder.status == 404)
            let stop = try await gateway.call(
                .POST, "/v1/chat/\(taskID)/stop", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1"])
            #expect(stop.status == 200)
            let rest = try await stream.readAll()
            let done = try #require(rest.last)
            #expect(done.name == "done")
            #expect(done.data["stopped"] as? Bool == true)
            let partial = try #require(done.data["answer"] as? String)
            #expect(partial.count < (1...600).map { "tok\($0)" }.joined(separator: " ").count)
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.last?.status == .stopped)
            #expect(stored.last?.content == partial)
            let unknown = try await gateway.call(
                .POST, "/v1/chat/\(UUID())/stop", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1"])
            #expect(unknown.status == 404)
        }
    }

    @Test func slowDifyRefusalArrivesAsAnErrorEvent() async throws {
        try await GatewayHarness.with(adjust: {
            // The timeout well past the 1 s grace, so the refusal comes after the head however slow the machine.
            $0.streamKeepAlive = .seconds(1); $0.difyTimeout = .seconds(6)
        }) { gateway in
            await gateway.fake.store.setFault(.hang)
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body("hello"))
            let events = try await stream.readAll()
            #expect(stream.status == 200)
            #expect(events.map(\.name) == ["error"])
            #expect(events.first?.data["status"] as? Int == 504)
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.map(\.status) == [.failed])
        }
    }

    @Test func keepAliveWhileDifyIsSilent() async throws {
        try await GatewayHarness.with(
            fakeOptions: FakeDifyOptions(apiKeys: [GatewayHarness.difyKey], latency: .seconds(5)),
            adjust: { $0.streamKeepAlive = .seconds(1) }
        ) { gateway in
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body("hi"))
            let events = try await stream.readAll()
            #expect(events.last?.name == "done")
            // The first is sent at once, with the response head; the silence gets more.
            #expect(stream.rawText.components(separatedBy: ": keep-alive\n\n").count - 1 >= 2)
        }
    }

    /// The user's answer once it is no longer streaming (up to a minute), or nil.
    static func waitForAnswer(_ gateway: GatewayHarness, user: String) async throws -> StoredMessage? {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let rows = try await gateway.messages(system: "drillquiz", user: user)
            if let answer = rows.first(where: { $0.role == "assistant" }), answer.status != .streaming { return answer }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }
}
