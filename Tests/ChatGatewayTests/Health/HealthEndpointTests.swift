import Testing

@testable import ChatGateway

@Suite("Health", .timeLimit(.minutes(3)))
struct HealthEndpointTests {
    @Test func liveAndReady() async throws {
        try await GatewayHarness.with { gateway in
            let live = try await gateway.call(.GET, "/health")
            #expect(live.status == 200)
            #expect(live.object["status"] as? String == "ok")
            let ready = try await gateway.call(.GET, "/health/ready")
            #expect(ready.status == 200)
            #expect(ready.object["database"] as? String == "ok")
        }
    }

    @Test func unknownPathsAreJSON404s() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(.GET, "/v1/nope")
            #expect(reply.status == 404)
            #expect(reply.detail != nil)
        }
    }
}
