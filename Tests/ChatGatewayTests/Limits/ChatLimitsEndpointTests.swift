import FakeDify
import Foundation
import Testing

@testable import ChatGateway

/// `RATE_LIMIT_PER_USER`, `RATE_LIMIT_PER_KEY` and `MAX_STREAMS_PER_USER` on `POST /v1/chat`.
@Suite("Chat limits", .hangLimit)
struct ChatLimitsEndpointTests {
    static func chat(
        _ gateway: GatewayHarness, user: String, headers: [(String, String)] = GatewayHarness.keyHeader
    ) async throws -> GatewayHarness.Reply {
        try await gateway.call(
            .POST, "/v1/chat", headers: headers, json: ["system_id": "drillquiz", "user_id": user, "message": "hi"])
    }

    /// A JWT minted on the test clock: the gateway checks `iat` against that clock, not the wall clock.
    static func bearer(_ user: String, clock: TestClock) async throws -> [(String, String)] {
        let token = try await ChatTokenService(secret: GatewayHarness.jwtSecret, now: clock.now).issue(
            systemID: "drillquiz", userID: user)
        return [("Authorization", "Bearer \(token)")]
    }

    @Test func perUserLimitAnswers429ThenRecoversAfterTheWindow() async throws {
        let clock = TestClock()
        try await GatewayHarness.with(
            adjust: { $0.rateLimitPerUser = RateLimit(count: 2, period: 60) }, dependencies: .init(now: clock.now)
        ) { gateway in
            #expect(try await Self.chat(gateway, user: "u1").status == 200)
            #expect(try await Self.chat(gateway, user: "u1").status == 200)
            let refused = try await Self.chat(gateway, user: "u1")
            #expect(refused.status == 429)
            #expect(refused.headers.first(name: "Retry-After") == "30")
            #expect(refused.detail == "Too many requests for this user. Retry in 30 s.")
            // The refused message never reached Dify or the database.
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").count == 4)
            // A JWT for the same user shares the user's budget.
            #expect(try await Self.chat(gateway, user: "u1", headers: Self.bearer("u1", clock: clock)).status == 429)
            clock.advance(by: 30)
            #expect(try await Self.chat(gateway, user: "u1").status == 200)
        }
    }

    @Test func perKeyLimitCountsEveryUserOfTheKeyButNotTokens() async throws {
        let clock = TestClock()
        try await GatewayHarness.with(
            adjust: {
                $0.rateLimitPerUser = RateLimit(count: 2, period: 60)
                $0.rateLimitPerKey = RateLimit(count: 3, period: 60)
            }, dependencies: .init(now: clock.now)
        ) { gateway in
            #expect(try await Self.chat(gateway, user: "u1").status == 200)
            #expect(try await Self.chat(gateway, user: "u1").status == 200)
            #expect(
                try await Self.chat(gateway, user: "u1").detail == "Too many requests for this user. Retry in 30 s.")
            #expect(try await Self.chat(gateway, user: "u2").status == 200)
            let refused = try await Self.chat(gateway, user: "u3")
            #expect(refused.status == 429)
            #expect(refused.detail == "Too many requests for this API key. Retry in 20 s.")
            #expect(refused.headers.first(name: "Retry-After") == "20")
            // A user's own token is not spent from the backend's key budget.
            #expect(try await Self.chat(gateway, user: "u3", headers: Self.bearer("u3", clock: clock)).status == 200)
        }
    }

    @Test func concurrentStreamsPerUserAreCapped() async throws {
        try await GatewayHarness.with(
            // Slow enough (20 tokens, 1 s apart) that the first answer outlasts a test resumed late on a loaded
            // machine; it is stopped once the checks are done.
            fakeOptions: FakeDifyOptions(apiKeys: [GatewayHarness.difyKey], tokenDelay: .seconds(1)),
            adjust: { $0.maxStreamsPerUser = 1 }
        ) { gateway in
            let body: (String, String) -> [String: Any] = {
                ["system_id": "drillquiz", "user_id": $0, "message": $1, "stream": true]
            }
            let first = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: body("u1", "/tokens 20"))
            let start = try #require(try await first.next())
            #expect(start.name == "start")
            let second = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: body("u1", "/tokens 20"))
            #expect(second.status == 429)
            #expect(second.detail == "Too many streaming answers at once: at most 1 per user. Wait for one to finish.")
            // Other users are not affected.
            let other = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: body("u2", "hi"))
            #expect(try await other.readAll().last?.name == "done")
            let taskID = try #require(start.data["task_id"] as? String)
            let stop = try await gateway.call(
                .POST, "/v1/chat/\(taskID)/stop", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1"])
            #expect(stop.status == 200)
            #expect(try await first.readAll().last?.name == "done")
            // The slot is given back once the answer has been read to its end.
            try await gateway.waitFor("the user's slot to come back") {
                try await gateway.call(
                    .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                    json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi", "stream": true]
                ).status == 200
            }
        }
    }

    /// The probe's 10,000 streams past `DIFY_MAX_CONNECTIONS` failed instead of being refused clearly: now the next
    /// one is 503 with `Retry-After`, and the breaker stays closed.
    @Test func aStreamPastDifyMaxConnectionsIsRefusedClearlyAndDifyStaysUp() async throws {
        try await GatewayHarness.with(
            fakeOptions: FakeDifyOptions(apiKeys: [GatewayHarness.difyKey], tokenDelay: .seconds(1)),
            adjust: { $0.difyMaxConnections = 1 }
        ) { gateway in
            let body: (String) -> [String: Any] = {
                ["system_id": "drillquiz", "user_id": $0, "message": "/tokens 20", "stream": true]
            }
            let first = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader, json: body("u1"))
            let start = try #require(try await first.next())
            let refused = try await gateway.call(.POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: body("u2"))
            #expect(refused.status == 503)
            #expect(refused.headers.first(name: "Retry-After") == "1")
            #expect(refused.detail?.contains("DIFY_MAX_CONNECTIONS") == true)
            let taskID = try #require(start.data["task_id"] as? String)
            _ = try await gateway.call(
                .POST, "/v1/chat/\(taskID)/stop", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "u1"])
            _ = try await first.readAll()
            // A stream, not a blocking chat: only streams take the process's slots.
            try await gateway.waitFor("the process's stream slot to come back") {
                try await gateway.call(
                    .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                    json: ["system_id": "drillquiz", "user_id": "u3", "message": "/tokens 1", "stream": true]
                ).status == 200
            }
        }
    }
}
