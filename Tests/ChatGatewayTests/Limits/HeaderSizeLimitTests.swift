import Foundation
import Testing

@testable import ChatGateway

/// `MAX_HEADER_BYTES`: an oversized header block is 431 before any route runs; above NIO's own 80 KB parser limit
/// the connection is closed without an answer, and the gateway carries on.
@Suite("Header size limit", .hangLimit)
struct HeaderSizeLimitTests {
    @Test func headersOverTheLimitAre431() async throws {
        try await GatewayHarness.with { gateway in
            // given: the default limit of 16384 bytes
            let big = [("X-Padding", String(repeating: "a", count: 17_000))]
            // when
            let refused = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader + big,
                json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi"])
            // then
            #expect(refused.status == 431)
            #expect(refused.detail == "Request headers too large: at most 16384 bytes")
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").isEmpty)
            #expect(try await gateway.call(.GET, "/health", headers: big).status == 431)
            #expect(
                try await gateway.call(.GET, "/health", headers: [("X-Padding", String(repeating: "a", count: 15_000))])
                    .status == 200)
            let document = OpenAPISchemaValidator(document: try OpenAPIConformanceTests.document())
            #expect(document.responseSchema(path: "/v1/chat", method: "POST", status: 431) != nil)
            #expect(document.responseSchema(path: "/health", method: "GET", status: 431) != nil)
        }
    }

    @Test func theLimitIsConfigurableAndCountsEveryLine() async throws {
        try await GatewayHarness.with(adjust: { $0.maxHeaderBytes = 2048 }) { gateway in
            // Many small headers add up like one big one.
            let many = (0..<100).map { ("X-Field-\($0)", "0123456789") }
            let refused = try await gateway.call(.GET, "/health", headers: many)
            #expect(refused.status == 431)
            #expect(refused.detail == "Request headers too large: at most 2048 bytes")
            #expect(try await gateway.call(.GET, "/health", headers: Array(many.prefix(20))).status == 200)
        }
    }

    @Test func aboveNIOsParserLimitTheConnectionIsClosedAndTheGatewayCarriesOn() async throws {
        try await GatewayHarness.with { gateway in
            let port = try #require(gateway.app.http.server.shared.localAddress?.port)
            // Between MAX_HEADER_BYTES and NIO's limit: an ordinary 431 answer.
            let mid = try RawHTTPConnection(port: port)
            mid.sendRaw(
                "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 60_000))\r\n\r\n"
            )
            await mid.read(until: "\r\n\r\n")
            #expect(mid.received.hasPrefix("HTTP/1.1 431"))
            mid.close()
            // Above 80 KB NIO's parser gives up: the connection is closed at once, with no answer and no hang.
            let huge = try RawHTTPConnection(port: port)
            let started = ContinuousClock.now
            huge.sendRaw(
                "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: \(String(repeating: "a", count: 100_000))\r\n\r\n"
            )
            await huge.read(until: "\r\n\r\n")
            // Closed, not left hanging until REQUEST_HEAD_TIMEOUT (30 s); loose enough for a loaded CI machine.
            #expect(ContinuousClock.now - started < .seconds(20), "the connection should be closed, not left hanging")
            #expect(huge.closedByPeer, "the connection should be closed, not left hanging")
            #expect(huge.received.isEmpty)
            huge.close()
            #expect(try await gateway.call(.GET, "/health").status == 200)
        }
    }
}
