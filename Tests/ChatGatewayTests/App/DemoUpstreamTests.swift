import Testing

@testable import ChatGateway

/// With no DIFY_BASE_URL the gateway answers from the in-process fake Dify, over real HTTP on loopback, as a demo
/// app that shows what the chat page can do.
@Suite("Demo upstream", .hangLimit)
struct DemoUpstreamTests {
    @Test func firstRunAnswersWithoutADifyAndShowsThePageOff() async throws {
        try await GatewayHarness.with(adjust: {
            $0.difyBaseURL = nil; $0.difyAPIKey = nil
        }) { gateway in
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "demo", "user_id": "me", "message": "hello"])
            #expect(reply.status == 200)
            let answer = try #require(reply.object["answer"] as? String)
            for part in ["> hello", "| Feature |", "```python", "$$"] { #expect(answer.contains(part)) }
            let metadata = reply.object["metadata"] as? [String: Any]
            #expect((metadata?["retriever_resources"] as? [Any])?.count == 2)
            // The test's own fake saw nothing: the answer came from the demo upstream.
            #expect(await gateway.fake.store.chatRequestCount == 0)

            let app = try await gateway.call(
                .GET, "/v1/parameters?system_id=demo&user_id=me", headers: GatewayHarness.keyHeader
            ).object
            #expect((app["opening_statement"] as? String)?.isEmpty == false)
            #expect((app["suggested_questions"] as? [String])?.count == 3)
            #expect((app["uploads"] as? [String: Any])?["types"] as? [String] == ["document", "image"])
        }
    }
}
