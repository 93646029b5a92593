import Foundation
import Testing

@testable import ChatGateway

/// The body, message and `inputs` bounds at their edges; `ChatEndpointTests` has the everyday cases.
@Suite("Request size limits", .hangLimit)
struct RequestSizeLimitsTests {
    static func chat(
        _ gateway: GatewayHarness, message: String = "hi", inputs: Any? = nil
    ) async throws -> GatewayHarness.Reply {
        var body: [String: Any] = ["system_id": "drillquiz", "user_id": "u1", "message": message]
        body["inputs"] = inputs
        return try await gateway.call(.POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: body)
    }

    @Test func largeInputsCountAgainstTheBodyLimit() async throws {
        try await GatewayHarness.with(adjust: { $0.maxRequestBytes = 4096 }) { gateway in
            let refused = try await Self.chat(gateway, inputs: ["notes": String(repeating: "x", count: 5000)])
            #expect(refused.status == 413)
            #expect(refused.detail?.isEmpty == false)
            #expect(try await Self.chat(gateway, inputs: ["notes": String(repeating: "x", count: 3000)]).status == 200)
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").count == 2)
        }
    }

    @Test func inputsMayBeEightLevelsDeepNotNine() async throws {
        func nested(_ levels: Int) -> Any {
            var value: Any = "leaf"
            for _ in 0..<levels { value = ["k": value] }
            return value
        }
        try await GatewayHarness.with { gateway in
            // `inputs` itself is the first level.
            #expect(try await Self.chat(gateway, inputs: nested(8)).status == 200)
            let refused = try await Self.chat(gateway, inputs: nested(9))
            #expect(refused.status == 422)
            #expect(refused.detail == "inputs is nested too deeply (at most 8 levels)")
        }
    }

    /// 60,000 nested arrays fit in the body limit; the JSON parser's own depth limit refuses them (no stack overflow).
    @Test func pathologicallyDeepJSONIsRefusedNotACrash() async throws {
        try await GatewayHarness.with { gateway in
            let depth = 60_000
            let body =
                #"{"system_id": "drillquiz", "user_id": "u1", "message": "hi", "inputs": {"a": "#
                + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}}"
            let reply = try await gateway.call(
                .POST, "/v1/chat",
                headers: [("X-API-Key", GatewayHarness.apiKey), ("Content-Type", "application/json")],
                rawBody: Data(body.utf8))
            #expect(reply.status == 422)
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").isEmpty)
            #expect(try await gateway.call(.GET, "/health").status == 200)
        }
    }

    @Test func aMessageOfExactlyTheLimitIsAccepted() async throws {
        try await GatewayHarness.with(adjust: { $0.maxMessageCharacters = 100 }) { gateway in
            // Characters, not bytes: 100 Korean syllables are 300 bytes of UTF-8.
            #expect(try await Self.chat(gateway, message: String(repeating: "가", count: 100)).status == 200)
            let refused = try await Self.chat(gateway, message: String(repeating: "가", count: 101))
            #expect(refused.status == 422)
            #expect(refused.detail == "message is too long: 101 characters, the limit is 100")
        }
    }
}
