import FakeDify
import Foundation
import Testing

@testable import ChatGateway

/// Connections are judged by their head: an oversize declared body is 413 at once, and a connection that sends
/// nothing, or half a head, is closed after `REQUEST_HEAD_TIMEOUT`; a quiet stream stays open on its keep-alives.
@Suite("Connection limits", .hangLimit)
struct ConnectionLimitsTests {
    static func port(_ gateway: GatewayHarness) -> Int { Int(gateway.baseURL.split(separator: ":").last!)! }

    static let oversizeHead =
        "POST /v1/chat HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: \(GatewayHarness.apiKey)\r\n"
        + "Content-Type: application/json\r\nContent-Length: 999999999\r\n"

    @Test(arguments: ["", "Expect: 100-continue\r\n"])
    func aDeclaredOversizeBodyIs413AtOnce(expect: String) async throws {
        try await GatewayHarness.with { gateway in
            let connection = try RawHTTPConnection(port: Self.port(gateway))
            defer { connection.close() }
            let started = ContinuousClock.now
            // With `Expect: 100-continue` a client such as curl waits a second for an answer, then sends the body;
            // Vapor hands a request on only once its first body byte arrives.
            connection.sendRaw(Self.oversizeHead + expect + "\r\n")
            if !expect.isEmpty { try await Task.sleep(for: .seconds(1)) }
            connection.sendRaw("{")
            await connection.read(until: "\r\n\r\n")
            // Well before REQUEST_HEAD_TIMEOUT (30 s), the only other way the connection could end; loose enough for a
            // loaded CI machine.
            #expect(ContinuousClock.now - started < .seconds(20))
            #expect(connection.received.hasPrefix("HTTP/1.1 413"), "\(connection.received)")
            #expect(connection.received.lowercased().contains("connection: close"))
        }
    }

    @Test func silentAndHalfSentConnectionsAreClosed() async throws {
        try await GatewayHarness.with(adjust: {
            $0.requestHeadTimeout = .seconds(2)
            $0.streamKeepAlive = .seconds(1)
        }) { gateway in
            for partial in ["", "GET /health HTTP/1.1\r\nHost: 127.0."] {
                // Taken before connecting: the gateway's timer starts when it accepts, which is no earlier.
                let started = ContinuousClock.now
                let connection = try RawHTTPConnection(port: Self.port(gateway))
                defer { connection.close() }
                if !partial.isEmpty { connection.sendRaw(partial) }
                await connection.read(until: "never arrives")
                let waited = ContinuousClock.now - started
                // Closed by the 2 s timeout, not left open: loose enough for a loaded CI machine.
                #expect(connection.closedByPeer, "not closed within 30 s")
                #expect(waited >= .seconds(1.5) && waited < .seconds(20), "closed after \(waited)")
                #expect(connection.received.isEmpty)
            }
        }
    }

    /// Sends one chat over a raw connection to a gateway whose connections time out after `timeout` and whose
    /// fake Dify waits as `fake` says; reads until `marker` or until the gateway closes the connection. With
    /// `warmUp`, a blocking chat comes first, so the gateway's first write, its first connections (database and
    /// Dify) and its start-up rounds are behind it before the raw connection's idle timer starts.
    static func rawChat(
        fake: FakeDifyOptions, timeout: Duration, json: [String: Any], until marker: String, warmUp: Bool = false,
        then check: (GatewayHarness, String) async throws -> Void
    ) async throws {
        try await GatewayHarness.with(
            fakeOptions: fake,
            adjust: {
                $0.requestHeadTimeout = timeout
                $0.streamKeepAlive = .seconds(1)
            }
        ) { gateway in
            if warmUp {
                let warm = try await gateway.call(
                    .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                    json: ["system_id": "drillquiz", "user_id": "warm-up", "message": "hi"])
                #expect(warm.status == 200, "\(warm.text)")
            }
            let connection = try RawHTTPConnection(port: Self.port(gateway))
            defer { connection.close() }
            try connection.sendPOST(path: "/v1/chat", headers: [("X-API-Key", GatewayHarness.apiKey)], json: json)
            await connection.read(until: marker)
            try await check(gateway, connection.received)
        }
    }

    @Test func aQuietStreamOutlivesTheTimeout() async throws {
        // The stream (the first token at once, then one every 4 s: 24 s) lasts longer than the timeout. The timeout
        // is also the time the stream's head may take: until the user's message is committed nothing is written,
        // and a loaded full run on two cores once took over 15 s for it (the test read nothing at all). Hence the
        // warm-up and the 20 s.
        try await Self.rawChat(
            fake: .init(apiKeys: [GatewayHarness.difyKey], tokenDelay: .seconds(4)), timeout: .seconds(20),
            json: ["system_id": "drillquiz", "user_id": "u1", "message": "/tokens 7", "stream": true],
            until: "event: done", warmUp: true
        ) { _, received in
            #expect(received.contains("tok7"))
            #expect(received.contains("event: done"), "\(received)")
        }
    }

    /// Vapor's idle timer also cuts a blocking chat that stays silent past the timeout; nothing is lost.
    @Test func aBlockingChatCutByTheTimeoutIsStillStored() async throws {
        try await Self.rawChat(
            fake: .init(apiKeys: [GatewayHarness.difyKey], latency: .seconds(4)), timeout: .seconds(2),
            json: ["system_id": "drillquiz", "user_id": "slow", "message": "take your time"], until: "never arrives"
        ) { gateway, _ in
            var stored: [StoredMessage] = []
            for _ in 0..<50 where stored.count < 2 || stored.contains(where: { $0.status != .complete }) {
                try await Task.sleep(for: .milliseconds(200))
                stored = try await gateway.messages(system: "drillquiz", user: "slow")
            }
            #expect(stored.map(\.role).sorted() == ["assistant", "user"])
            #expect(stored.first { $0.role == "assistant" }?.content == "Echo: take your time")
        }
    }

    @Test func aTimeoutNoLongerThanTheKeepAliveIsRefused() {
        #expect(throws: SettingsError.self) {
            try Settings.parse(
                environment: ["REQUEST_HEAD_TIMEOUT": "10s", "STREAM_KEEPALIVE_SECONDS": "15"], isProduction: false)
        }
        #expect(throws: SettingsError.self) {
            try Settings.parse(environment: ["REQUEST_HEAD_TIMEOUT": "off"], isProduction: false)
        }
    }
}
