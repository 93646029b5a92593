import AsyncHTTPClient
import FakeDify
import Foundation
import Testing

@testable import ChatGateway

/// The bounds on how long and how many: `DIFY_STREAM_IDLE_TIMEOUT`, the connect timeout and `DIFY_MAX_CONNECTIONS`.
@Suite("Upstream timeouts and pool", .timeLimit(.minutes(3)))
struct UpstreamTimeoutTests {
    static func body(_ message: String) -> [String: Any] {
        ["system_id": "drillquiz", "user_id": "u1", "message": message, "stream": true]
    }

    @Test func aDifyStreamSilentForTheIdleTimeoutIsBrokenAndStoredAsFailed() async throws {
        try await GatewayHarness.with(
            fakeOptions: FakeDifyOptions(
                apiKeys: [GatewayHarness.difyKey], tokenDelay: .seconds(3), pingInterval: .zero),
            adjust: { $0.difyStreamIdleTimeout = .seconds(1) }
        ) { gateway in
            // when: Dify sends its head, then stays silent for longer than the idle timeout
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body("/tokens 3"))
            let events = try await stream.readAll()
            // then
            let last = try #require(events.last)
            #expect(last.name == "error")
            #expect(last.data["status"] as? Int == 504)
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.contains { $0.status == .failed })
        }
    }

    @Test func pingsKeepASlowStreamAlive() async throws {
        try await GatewayHarness.with(
            fakeOptions: FakeDifyOptions(
                apiKeys: [GatewayHarness.difyKey], tokenDelay: .milliseconds(1500), pingInterval: .milliseconds(300)),
            adjust: { $0.difyStreamIdleTimeout = .seconds(1) }
        ) { gateway in
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body("/tokens 2"))
            #expect(try await stream.readAll().last?.name == "done")
        }
    }

    @Test func theDifyPoolAndConnectTimeoutAreBounded() async throws {
        try await GatewayHarness.with(adjust: { $0.difyMaxConnections = 7 }) { gateway in
            let configuration = gateway.app.http.client.configuration
            #expect(configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit == 7)
            #expect(configuration.timeout.connect == .seconds(3))
        }
    }
}
