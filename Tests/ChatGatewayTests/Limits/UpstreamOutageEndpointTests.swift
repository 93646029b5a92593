import FakeDify
import Foundation
import Testing

@testable import ChatGateway

/// A dead Dify must not take the gateway down: after `DIFY_CIRCUIT_FAILURES` failures in a row its calls answer 503
/// at once, every message is still stored (failed), and the first call after the cool-down finds out whether it is back.
@Suite("Dify outages", .hangLimit)
struct UpstreamOutageEndpointTests {
    static func chat(
        _ gateway: GatewayHarness, _ message: String, stream: Bool = false
    ) async throws -> GatewayHarness.Reply {
        try await gateway.call(
            .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
            json: ["system_id": "drillquiz", "user_id": "u1", "message": message, "stream": stream])
    }

    /// Nobody listens on the discard port, and no ephemeral bind can take it (`ChatUpstreamFailureTests` uses it too).
    static let deadDify = URL(string: "http://127.0.0.1:9")

    /// A loopback port nobody listens on, until the recovery test starts a fake Dify there again. It is drawn below
    /// the kernel's ephemeral range: every other server in the suite binds port 0, so none can be handed this port
    /// while it is free (an ephemeral one was, once, in CI: the "dead" Dify answered 404).
    static func deadPort() async throws -> Int {
        let ephemeralStart =
            (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8))
            .flatMap { $0.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } } ?? 32768
        let candidates = max(1024, ephemeralStart - 8000)..<ephemeralStart
        for _ in 0..<20 {
            let port = Int.random(in: candidates)
            // Binding proves the port is free right now; a port some other program holds is skipped.
            guard
                let server = try? await FakeDifyServer.start(
                    port: port, store: FakeDifyStore(options: FakeDifyOptions(apiKeys: [GatewayHarness.difyKey])))
            else { continue }
            try await server.shutdown()
            return port
        }
        throw DeadPortUnavailable()
    }

    struct DeadPortUnavailable: Error {}

    /// Requests the gateway made to Dify, refusals of the open breaker aside.
    static func difyAttempts(_ gateway: GatewayHarness) async throws -> Double {
        try await MetricsEndpointTests.scrape(gateway)
            .filter { $0.key.hasPrefix("chatgw_dify_requests_total{") && !$0.key.contains(#"status="circuit_open""#) }
            .values.reduce(0, +)
    }

    @Test func deadDifyOpensTheBreakerAnswers503FastKeepsMessagesAndRecovers() async throws {
        let clock = TestClock()
        let port = try await Self.deadPort()
        try await GatewayHarness.with(
            adjust: {
                $0.difyBaseURL = URL(string: "http://127.0.0.1:\(port)")
                $0.difyCircuitFailures = 2
                $0.difyCircuitCooldown = .seconds(30)
            }, dependencies: .init(now: clock.now)
        ) { gateway in
            // given: two chats that find Dify down (a blocking one and a stream), each ended by the 3 s connect timeout
            let started = ContinuousClock.now
            async let blocking = Self.chat(gateway, "first")
            async let streaming = Self.chat(gateway, "second", stream: true)
            let failures = try await [blocking, streaming]
            #expect(failures.map(\.status) == [502, 502])
            // Loose enough for a loaded machine, and still well short of DIFY_TIMEOUT (30 s).
            #expect(ContinuousClock.now - started < .seconds(20), "refused connections must not wait for DIFY_TIMEOUT")
            let attempts = try await Self.difyAttempts(gateway)

            // when: the breaker is open
            for stream in [false, true] {
                let refused = try await Self.chat(gateway, "while open", stream: stream)
                // then: a 503 saying when to come back, without trying Dify (which would take the 3 s connect timeout)
                #expect(refused.status == 503)
                #expect(refused.detail == "Dify is unavailable (2 failures in a row); retrying in 30 s")
                #expect(refused.headers.first(name: "Retry-After") == "30")
            }
            #expect(try await Self.difyAttempts(gateway) == attempts, "an open breaker tried Dify")
            // Every message is stored, marked failed with the reason.
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.count == 4)
            #expect(stored.allSatisfy { $0.status == .failed })
            #expect(
                stored.filter { $0.content == "while open" }.allSatisfy {
                    $0.error == "Dify is unavailable (2 failures in a row); retrying in 30 s"
                })

            // The history sync lists the open breaker as this user's failure and carries on.
            let sync = try await gateway.call(.POST, "/v1/sync", headers: GatewayHarness.keyHeader)
            #expect(sync.status == 200)
            let errors = sync.object["errors"] as? [[String: Any]] ?? []
            #expect(errors.count == 1)
            #expect(errors.first?["user_id"] as? String == "u1")
            #expect(
                (errors.first?["detail"] as? String)?.hasPrefix("Dify is unavailable (2 failures in a row)") == true)

            // Dify comes back: after the cool-down the trial call gets through and closes the breaker.
            let revived = try await FakeDifyServer.start(
                port: port, store: FakeDifyStore(options: FakeDifyOptions(apiKeys: [GatewayHarness.difyKey])))
            clock.advance(by: 30)
            let trial = try await Self.chat(gateway, "back?")
            #expect(trial.status == 200)
            #expect(try await Self.chat(gateway, "and again", stream: true).status == 200)
            try await revived.shutdown()
        }
    }

    @Test func aFailedTrialReopensTheBreaker() async throws {
        let clock = TestClock()
        try await GatewayHarness.with(
            adjust: {
                $0.difyBaseURL = Self.deadDify
                $0.difyCircuitFailures = 1
            }, dependencies: .init(now: clock.now)
        ) { gateway in
            #expect(try await Self.chat(gateway, "one").status == 502)
            #expect(try await Self.chat(gateway, "two").status == 503)
            clock.advance(by: 30)
            #expect(try await Self.chat(gateway, "trial").status == 502)
            let refused = try await Self.chat(gateway, "three")
            #expect(refused.detail == "Dify is unavailable (2 failures in a row); retrying in 30 s")
        }
    }

    /// Dify's own error answers mean Dify is up; only what a proxy says for a dead Dify (502/503/504) counts.
    @Test func difyErrorAnswersDoNotOpenTheBreakerButProxy502sDo() async throws {
        try await GatewayHarness.with(adjust: { $0.difyCircuitFailures = 2 }) { gateway in
            for fault in [
                FakeDifyFault.httpError(status: 500, code: "internal_server_error", message: "boom"),
                .httpError(status: 400, code: "provider_not_initialize", message: "no provider"),
                .httpError(status: 429, code: "too_many_requests", message: "slow down"),
            ] {
                await gateway.fake.store.setFault(fault)
                for _ in 0..<3 { #expect(try await Self.chat(gateway, "hi").status == 502) }
            }
            await gateway.fake.store.setFault(.nonJSONError(status: 502))
            #expect(try await Self.chat(gateway, "hi").status == 502)
            #expect(try await Self.chat(gateway, "hi").status == 502)
            #expect(try await Self.chat(gateway, "hi").status == 503)
            // Other calls to the same Dify fail fast too, with the same answer.
            let listing = try await gateway.call(
                .GET, "/v1/conversations?system_id=drillquiz&user_id=u1", headers: GatewayHarness.keyHeader)
            #expect(listing.status == 503)
            #expect(listing.detail?.hasPrefix("Dify is unavailable (2 failures in a row)") == true)
            let document = OpenAPISchemaValidator(document: try OpenAPIConformanceTests.document())
            let schema = try #require(
                document.responseSchema(path: "/v1/conversations", method: "GET", status: 503) ?? nil)
            #expect(document.problems(try listing.json(), against: schema).isEmpty)
        }
    }

    @Test func aSystemWithItsOwnDifyKeepsWorkingWhenTheSharedOneIsDown() async throws {
        try await GatewayHarness.with(adjust: { settings in
            settings.difySystemOverrides = ["COIN_TUTOR": .init(baseURL: settings.difyBaseURL, apiKey: nil)]
            settings.difyBaseURL = Self.deadDify
            settings.difyCircuitFailures = 1
        }) { gateway in
            #expect(try await Self.chat(gateway, "one").status == 502)
            #expect(try await Self.chat(gateway, "two").status == 503)
            let other = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "coin-tutor", "user_id": "u1", "message": "hi"])
            #expect(other.status == 200)
        }
    }
}
