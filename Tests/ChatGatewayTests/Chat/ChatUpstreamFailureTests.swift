import FakeDify
import Foundation
import Testing

@testable import ChatGateway

/// Whatever Dify does, the user's message is in the database afterwards, marked failed with the reason.
@Suite("POST /v1/chat when Dify fails", .hangLimit)
struct ChatUpstreamFailureTests {
    static var body: [String: Any] { ["system_id": "drillquiz", "user_id": "u1", "message": "keep me"] }

    @Test(arguments: [
        (FakeDifyFault.httpError(status: 500, code: "internal_server_error", message: "boom"), 502),
        (FakeDifyFault.httpError(status: 400, code: "provider_not_initialize", message: "no provider"), 502),
        (FakeDifyFault.httpError(status: 429, code: "too_many_requests", message: "Too many requests."), 502),
        (FakeDifyFault.nonJSONError(status: 502), 502),
        (FakeDifyFault.malformedJSON, 502),
        (FakeDifyFault.streamCut(afterChunks: 0), 502),
        (FakeDifyFault.hang, 504),
    ])
    func keepsTheMessage(fault: FakeDifyFault, status: Int) async throws {
        // Only the hang waits out the timeout; the others must not hit it even on a loaded machine.
        try await GatewayHarness.with(adjust: { $0.difyTimeout = fault == .hang ? .seconds(2) : .seconds(30) }) {
            gateway in
            // given
            await gateway.fake.store.setFault(fault)
            // when
            let reply = try await gateway.call(.POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body)
            // then
            #expect(reply.status == status)
            #expect(reply.detail?.isEmpty == false)
            #expect(!reply.text.contains(GatewayHarness.difyKey))
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.count == 1)
            #expect(stored.first?.content == "keep me")
            #expect(stored.first?.status == .failed)
            #expect(stored.first?.error?.isEmpty == false)
        }
    }

    @Test func difyDown() async throws {
        try await GatewayHarness.with(adjust: { $0.difyBaseURL = URL(string: "http://127.0.0.1:9") }) { gateway in
            let reply = try await gateway.call(.POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body)
            #expect(reply.status == 502)
            #expect(reply.detail == "Chat service temporarily unavailable. Please try again.")
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.map(\.status) == [.failed])
        }
    }

    @Test func systemWithoutDifyIs503() async throws {
        try await GatewayHarness.with(adjust: { $0.difyAPIKey = nil }) { gateway in
            let reply = try await gateway.call(.POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body)
            #expect(reply.status == 503)
            #expect(reply.detail?.contains("drillquiz") == true)
        }
    }

    @Test func perSystemDifyOverridesTheSharedOne() async throws {
        try await GatewayHarness.with(adjust: {
            $0.difyAPIKey = nil
            $0.difySystemOverrides = ["COIN_TUTOR": .init(baseURL: nil, apiKey: GatewayHarness.difyKey)]
        }) { gateway in
            let served = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "coin-tutor", "user_id": "u1", "message": "hi"])
            #expect(served.status == 200)
            let unconfigured = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.body)
            #expect(unconfigured.status == 503)
        }
    }
}
