import Testing

@testable import ChatGateway

/// With no DIFY_BASE_URL the gateway answers from the in-process fake Dify, over real HTTP on loopback.
@Suite("Demo upstream", .hangLimit)
struct DemoUpstreamTests {
    @Test func firstRunAnswersWithoutADify() async throws {
        try await GatewayHarness.with(adjust: {
            $0.difyBaseURL = nil; $0.difyAPIKey = nil
        }) { gateway in
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "demo", "user_id": "me", "message": "hello"])
            #expect(reply.status == 200)
            #expect(reply.object["answer"] as? String == "Echo: hello")
            // The test's own fake saw nothing: the answer came from the demo upstream.
            #expect(await gateway.fake.store.chatRequestCount == 0)
        }
    }
}
