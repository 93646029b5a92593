import Testing

@testable import FakeDify

@Suite("Test-control routes", .timeLimit(.minutes(3)))
struct ControlTests {
    @Test func controlRoutes() async throws {
        try await withFakeDify { server, http in
            let seed = try await http.send(
                .POST, "/_fake/seed", json: #"{"user": "c", "conversations": 3, "turns_each": 2}"#, auth: nil)
            #expect(seed.json["conversation_ids"].array.count == 3)
            #expect(await server.store.conversationIDs(user: "c").count == 3)

            let options = try await http.send(
                .POST, "/_fake/options",
                json: #"{"latency_ms": 5, "token_delay_ms": 7, "ping_interval_ms": 900}"#, auth: nil)
            #expect(options.status == 200)
            let current = await server.store.options
            #expect(current.latency == .milliseconds(5) && current.tokenDelay == .milliseconds(7))
            #expect(current.pingInterval == .milliseconds(900))

            _ = try await http.send(
                .POST, "/_fake/fault", json: #"{"kind": "stream_error", "after_chunks": 4}"#, auth: nil)
            #expect(await server.store.fault == .streamError(afterChunks: 4))
            _ = try await http.send(
                .POST, "/_fake/fault",
                json: #"{"kind": "http_error", "status": 429, "code": "too_many_requests", "message": "slow down"}"#,
                auth: nil)
            #expect(
                await server.store.fault == .httpError(status: 429, code: "too_many_requests", message: "slow down"))
            #expect(try await http.chat("hi").status == 429)
            _ = try await http.send(.POST, "/_fake/fault", json: #"{"kind": null}"#, auth: nil)
            #expect(await server.store.fault == nil)
            let bad = try await http.send(.POST, "/_fake/fault", json: #"{"kind": "explode"}"#, auth: nil)
            #expect(bad.status == 400)

            let stats = try await http.send(.GET, "/_fake/stats", auth: nil)
            #expect(stats.json["chat_requests"].int == 1)
            _ = try await http.send(.POST, "/_fake/reset", auth: nil)
            #expect(await server.store.conversationIDs(user: "c").isEmpty)
            #expect(await server.store.chatRequestCount == 0)
        }
    }
}

@Suite("Wire encoding", .timeLimit(.minutes(3)))
struct EncodingTests {
    @Test func pythonAndCompactStyles() {
        let value = FakeDifyJSON.object([
            ("a", .string("é😀\n\"/")), ("b", .double(1)), ("c", .array([.int(2), .null, .bool(true)])),
        ])
        // Flask's json.dumps: spaced separators, \u escapes (surrogate pairs past the BMP).
        #expect(value.serialized(.python) == #"{"a": "\u00e9\ud83d\ude00\n\"/", "b": 1.0, "c": [2, null, true]}"#)
        // orjson for SSE: compact, raw UTF-8.
        #expect(value.serialized(.compact) == #"{"a":"é😀\n\"/","b":1.0,"c":[2,null,true]}"#)
    }

    @Test func usageNumbers() {
        #expect(FakeDifyUsage.decimal(1033) == "0.0001033")
        #expect(FakeDifyUsage.decimal(12_345_678) == "1.2345678")
        let usage = FakeDifyUsage(query: "a b c", completionChunks: 2, latency: 0.25).json
        #expect(usage["prompt_tokens"]?.intValue == 3 && usage["total_tokens"]?.intValue == 5)
        #expect(usage["total_price"]?.stringValue == "0.0000070")
    }

    @Test func conversationNames() {
        #expect(FakeDifyAnswer.conversationName(for: "short") == "short")
        let long = String(repeating: "한", count: 80)
        #expect(FakeDifyAnswer.conversationName(for: long) == String(repeating: "한", count: 75) + "...")
    }
}
