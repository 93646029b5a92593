import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// The SIGTERM sequence, step by step (the whole of it, with a real signal, is `e2e/shutdown.sh`).
@Suite("Graceful shutdown", .hangLimit)
struct ShutdownSequenceTests {
    static func chat(stream: Bool = false) -> [String: Any] {
        ["system_id": "drillquiz", "user_id": "u1", "message": "hello", "stream": stream]
    }

    @Test func readyzTurns503AtOnceAndChatsAreRefusedOnlyAfterTheReadyGrace() async throws {
        try await GatewayHarness.with { gateway in
            let shutdown = try #require(gateway.app.gracefulShutdown)
            #expect(try await gateway.call(.GET, "/readyz").status == 200)

            shutdown.state.enter(.draining)
            let draining = try await gateway.call(.GET, "/readyz")
            #expect(draining.status == 503)
            #expect(draining.object["status"] as? String == "unavailable")
            #expect(try await gateway.call(.GET, "/healthz").status == 200)
            #expect(
                try await gateway.call(.POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.chat()).status
                    == 200)

            shutdown.state.enter(.refusingChats)
            let refused = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.chat(stream: true))
            #expect(refused.status == 503)
            #expect(refused.detail == ShutdownState.refusalDetail)
            #expect(refused.headers.first(name: .retryAfter) == "1")
            let metrics = MetricsEndpointTests.samples(try await gateway.call(.GET, "/metrics").text)
            #expect(metrics[#"chatgw_chats_total{system="other",mode="stream",outcome="refused"}"#] == 1)
        }
    }

    /// Starts a stream from `stub` with a client reading it, runs the shutdown sequence, and waits for the client's
    /// stream to end.
    static func shutDown(
        whileStreaming stub: StubDifyClient, _ gateway: GatewayHarness, readyGrace: Duration, grace: Duration
    ) async throws -> (GracefulShutdown, RecordingWriter) {
        let service = ChatServiceTests.service(gateway, stub)
        let turn = try await service.stream(
            "hello", conversationID: nil, inputs: [:], as: ChatServiceTests.caller, logger: .init(label: "test"))
        let client = RecordingWriter()
        async let written: Void = ChatServiceTests.read(turn, into: client)
        // The deadline is what is tested, not how soon a loaded machine gets the first words in.
        try await gateway.waitFor("the answer's first words") { !turn.log.textSoFar.text.isEmpty }
        let shutdown = GracefulShutdown(
            state: ShutdownState(), streams: service.streams, readyGrace: readyGrace, grace: grace)
        await shutdown.run(logger: .init(label: "test"))
        await written
        return (shutdown, client)
    }

    @Test func theSequenceWaitsForARunningStreamToBeStored() async throws {
        try await GatewayHarness.with { gateway in
            let ids = ChatServiceTests.ids
            let stub = StubDifyClient(
                events: [
                    .answerDelta(ids, text: "slow "), .answerDelta(ids, text: "answer"),
                    .messageEnd(ids, metadata: nil),
                ],
                pause: .milliseconds(300))
            let (shutdown, client) = try await Self.shutDown(
                whileStreaming: stub, gateway, readyGrace: .milliseconds(100), grace: .seconds(10))
            #expect(shutdown.state.phase == .drained)
            #expect(client.text.contains("event: done"))
            let answer = try #require(try await gateway.messages(system: "drillquiz", user: "u1").last)
            #expect(answer.status == .complete)
            #expect(answer.content == "slow answer")
        }
    }

    @Test func aStreamStillRunningAtTheDeadlineIsStoredInterruptedAndItsClientTold() async throws {
        try await GatewayHarness.with { gateway in
            let ids = ChatServiceTests.ids
            // A minute of stream: a sequence that waited for all of it would end with `done` and a complete answer.
            let stub = StubDifyClient(
                events: [.answerDelta(ids, text: "so far")] + Array(repeating: .ping, count: 600)
                    + [.messageEnd(ids, metadata: nil)],
                pause: .milliseconds(100))
            let (_, client) = try await Self.shutDown(
                whileStreaming: stub, gateway, readyGrace: .zero, grace: .milliseconds(700))
            #expect(client.text.contains("event: error") && client.text.contains("gateway_restarting"))
            #expect(!client.text.contains("event: done"))
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.map(\.status) == [.complete, .interrupted])
            #expect(stored.last?.content == "so far")
        }
    }
}
