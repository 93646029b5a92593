import AsyncHTTPClient
import FakeDify
import Foundation
import Testing

@testable import ChatGateway

/// The bounds on how long and how many: `DIFY_STREAM_IDLE_TIMEOUT`, the connect timeout and `DIFY_MAX_CONNECTIONS`.
@Suite("Upstream timeouts and pool", .hangLimit)
struct UpstreamTimeoutTests {
    static func body(_ message: String) -> [String: Any] {
        ["system_id": "drillquiz", "user_id": "u1", "message": message, "stream": true]
    }

    @Test func aDifyStreamSilentForTheIdleTimeoutIsBrokenAndStoredAsFailed() async throws {
        try await GatewayHarness.with(
            fakeOptions: FakeDifyOptions(
                apiKeys: [GatewayHarness.difyKey], tokenDelay: .seconds(12), pingInterval: .zero),
            // Long enough for a loaded CI machine to deliver the head and first token in time, so the silence
            // this test is about is the one after them.
            adjust: { $0.difyStreamIdleTimeout = .seconds(4) }
        ) { gateway in
            // when: Dify sends its head and first token, then stays silent for longer than the idle timeout
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body("/tokens 3"))
            let events = try await stream.readAll()
            // then
            #expect(events.first?.name == "start")
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
                apiKeys: [GatewayHarness.difyKey], tokenDelay: .seconds(4), pingInterval: .milliseconds(300)),
            // Silences between tokens outlast the timeout; between pings they stay far below it, even on a loaded CI.
            adjust: { $0.difyStreamIdleTimeout = .seconds(3) }
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
