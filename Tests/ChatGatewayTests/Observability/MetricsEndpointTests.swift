import FakeDify
import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// `GET /metrics` after real chats through the gateway and the fake Dify: the counters move by exactly what
/// happened, labels stay bounded, and `METRICS_KEY` guards the scrape.
@Suite("Prometheus metrics", .hangLimit)
struct MetricsEndpointTests {
    /// The exposition's samples: `name{labels}` → value.
    static func samples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    static func scrape(_ gateway: GatewayHarness, headers: [(String, String)] = []) async throws -> [String: Double] {
        let reply = try await gateway.call(.GET, "/metrics", headers: headers)
        #expect(reply.status == 200)
        #expect(reply.headers.first(name: .contentType)?.hasPrefix("text/plain; version=0.0.4") == true)
        return samples(reply.text)
    }

    static func chat(_ system: String, _ message: String, stream: Bool = false) -> [String: Any] {
        ["system_id": system, "user_id": "u1", "message": message, "stream": stream]
    }

    @Test func chatsMoveTheCountersByExactlyWhatHappened() async throws {
        try await GatewayHarness.with(adjust: { $0.allowedSystemIDs = ["drillquiz"] }) { gateway in
            let key = GatewayHarness.keyHeader
            let blocking = try await gateway.call(
                .POST, "/v1/chat", headers: key, json: Self.chat("drillquiz", "one two three"))
            #expect(blocking.status == 200)
            let streamed = try await gateway.call(
                .POST, "/v1/chat", headers: key, json: Self.chat("drillquiz", "four five", stream: true))
            #expect(streamed.status == 200)
            let conversation = try #require(blocking.object["conversation_id"] as? String)
            let history = try await gateway.call(
                .GET, "/v1/conversations/\(conversation)/messages?system_id=drillquiz&user_id=u1", headers: key)
            #expect(history.status == 200)
            // The client has `done` before the stream's last write and its counts.
            let streams = try #require(gateway.app.gracefulShutdown?.streams)
            try await gateway.waitFor("the stream to leave the process") { streams.running.isEmpty }

            let samples = try await Self.scrape(gateway)
            #expect(samples[#"chatgw_chats_total{system="drillquiz",mode="blocking",outcome="completed"}"#] == 1)
            #expect(samples[#"chatgw_chats_total{system="drillquiz",mode="stream",outcome="completed"}"#] == 1)
            #expect(samples[#"chatgw_http_requests_total{route="/v1/chat",method="POST",status="200"}"#] == 2)
            // The route pattern, never the conversation id.
            #expect(
                samples[
                    #"chatgw_http_requests_total{route="/v1/conversations/:conversation_id/messages",method="GET",status="200"}"#
                ] == 1, "\(samples.keys.filter { $0.contains("conversations") })")
            #expect(!samples.keys.contains { $0.contains(conversation) })
            #expect(
                samples[#"chatgw_dify_requests_total{system="drillquiz",endpoint="chat-messages",status="200"}"#] == 2)
            #expect(samples[#"chatgw_messages_stored_total{system="drillquiz",role="user",status="complete"}"#] == 2)
            #expect(
                samples[#"chatgw_messages_stored_total{system="drillquiz",role="assistant",status="complete"}"#] == 2)
            #expect(samples[#"chatgw_dify_time_to_first_token_seconds_count{system="drillquiz"}"#] == 1)
            #expect(samples["chatgw_gateway_overhead_seconds_count"] == 1)
            #expect(samples["chatgw_streams_active"] == 0)
            #expect(samples[#"chatgw_dify_circuit_open{system="drillquiz"}"#] == 0)
            #expect((samples["process_resident_memory_bytes"] ?? 0) > 1_000_000)
            #expect((samples["process_open_fds"] ?? 0) > 3)
            #expect((samples["process_cpu_seconds_total"] ?? 0) > 0)

            // Tokens and cost are the sums of the usage the fake Dify sent with each answer.
            let usages = [blocking.object["metadata"], streamedDone(streamed.text)?["metadata"]]
                .compactMap { ($0 as? [String: Any])?["usage"] as? [String: Any] }
            #expect(usages.count == 2)
            let prompt = usages.compactMap { $0["prompt_tokens"] as? Int }.reduce(0, +)
            let completion = usages.compactMap { $0["completion_tokens"] as? Int }.reduce(0, +)
            let price = usages.compactMap { ($0["total_price"] as? String).flatMap(Double.init) }.reduce(0, +)
            #expect(prompt > 0 && completion > 0)
            #expect(samples[#"chatgw_tokens_total{system="drillquiz",kind="prompt"}"#] == Double(prompt))
            #expect(samples[#"chatgw_tokens_total{system="drillquiz",kind="completion"}"#] == Double(completion))
            let cost = try #require(samples[#"chatgw_cost_total{system="drillquiz",currency="USD"}"#])
            #expect(abs(cost - price) < 1e-12)
        }
    }

    /// The `done` event's data of a streamed reply.
    func streamedDone(_ text: String) -> [String: Any]? {
        let blocks = text.components(separatedBy: "\n\n")
        guard let done = blocks.first(where: { $0.contains("event: done") }),
            let data = done.split(separator: "\n").first(where: { $0.hasPrefix("data: ") })
        else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(data.dropFirst(6).utf8)) as? [String: Any]
    }

    @Test func anUnknownSystemIsCountedAsOtherAndRefusalsAreCounted() async throws {
        try await GatewayHarness.with(adjust: {
            $0.allowedSystemIDs = []
            $0.rateLimitPerUser = RateLimit(count: 1, period: 60)
        }) { gateway in
            let key = GatewayHarness.keyHeader
            #expect(
                try await gateway.call(.POST, "/v1/chat", headers: key, json: Self.chat("made-up-7f3", "hi")).status
                    == 200)
            #expect(
                try await gateway.call(.POST, "/v1/chat", headers: key, json: Self.chat("made-up-7f3", "hi")).status
                    == 429)
            let text = try await gateway.call(.GET, "/metrics").text
            #expect(!text.contains("made-up-7f3"))
            let samples = Self.samples(text)
            #expect(samples[#"chatgw_chats_total{system="other",mode="blocking",outcome="completed"}"#] == 1)
            #expect(samples[#"chatgw_chats_total{system="other",mode="blocking",outcome="refused"}"#] == 1)
            #expect(samples[#"chatgw_rate_limited_total{system="other",scope="user"}"#] == 1)
            #expect(samples[#"chatgw_http_requests_total{route="/v1/chat",method="POST",status="429"}"#] == 1)
        }
    }

    @Test func aPathNoRouteServesIsCountedAsUnmatched() async throws {
        try await GatewayHarness.with { gateway in
            #expect(try await gateway.call(.GET, "/wp-admin/setup-config.php").status == 404)
            let text = try await gateway.call(.GET, "/metrics").text
            #expect(!text.contains("wp-admin"))
            #expect(
                Self.samples(text)[#"chatgw_http_requests_total{route="unmatched",method="GET",status="404"}"#] == 1)
        }
    }

    @Test func theSyncIsCounted() async throws {
        try await GatewayHarness.with { gateway in
            let key = GatewayHarness.keyHeader
            #expect(
                try await gateway.call(.POST, "/v1/chat", headers: key, json: Self.chat("drillquiz", "hi")).status
                    == 200)
            let sync = try await gateway.call(.POST, "/v1/sync", headers: key)
            #expect(sync.status == 200)
            let samples = Self.samples(try await gateway.call(.GET, "/metrics").text)
            #expect(samples[#"chatgw_sync_runs_total{result="success"}"#] == 1)
            let finished = try #require(samples["chatgw_sync_last_success_timestamp_seconds"])
            #expect(abs(finished - Date().timeIntervalSince1970) < 60)
            let written = (sync.object["messages_added"] as? Int ?? 0) + (sync.object["messages_updated"] as? Int ?? 0)
            let counted =
                (samples[#"chatgw_sync_messages_total{change="added"}"#] ?? 0)
                + (samples[#"chatgw_sync_messages_total{change="updated"}"#] ?? 0)
            #expect(counted == Double(written))
        }
    }

    /// A blocking answer is read and decoded within the measured call: one that breaks off or does not decode is
    /// counted as that, not as Dify's 200.
    @Test(arguments: [
        (FakeDifyFault.malformedJSON, "malformed"), (FakeDifyFault.streamCut(afterChunks: 0), "unreachable"),
    ])
    func aBlockingAnswerThatFailsIsCountedByHowItFailed(fault: FakeDifyFault, status: String) async throws {
        try await GatewayHarness.with(adjust: { $0.allowedSystemIDs = ["drillquiz"] }) { gateway in
            await gateway.fake.store.setFault(fault)
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.chat("drillquiz", "hi"))
            #expect(reply.status == 502)
            let samples = try await Self.scrape(gateway)
            #expect(
                samples[#"chatgw_dify_requests_total{system="drillquiz",endpoint="chat-messages",status="\#(status)"}"#]
                    == 1, "\(samples.keys.filter { $0.hasPrefix("chatgw_dify_requests_total") })")
        }
    }

    @Test func metricsKeyGuardsTheScrape() async throws {
        try await GatewayHarness.with(adjust: { $0.metricsKey = "scrape-key-41c9" }) { gateway in
            let open = try await gateway.call(.GET, "/metrics")
            #expect(open.status == 401)
            #expect(open.headers.first(name: .wwwAuthenticate) == "Bearer")
            #expect(open.detail == "Authorization: Bearer <METRICS_KEY> required")
            #expect(
                try await gateway.call(.GET, "/metrics", headers: [("Authorization", "Bearer wrong")]).status == 401)
            let scraped = try await gateway.call(
                .GET, "/metrics", headers: [("Authorization", "Bearer scrape-key-41c9")])
            #expect(scraped.status == 200)
            #expect(scraped.text.contains("chatgw_http_requests_total"))
        }
    }
}
