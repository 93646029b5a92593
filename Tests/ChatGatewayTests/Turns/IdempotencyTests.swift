import FakeDify
import Foundation
import Testing

@testable import ChatGateway

@Suite("Idempotency-Key on chats", .hangLimit)
struct IdempotencyTests {
    static func chat(_ message: String = "hi", user: String = "u1", stream: Bool = false) -> [String: Any] {
        ["system_id": "drillquiz", "user_id": user, "message": message, "stream": stream]
    }
    static func keyed(_ key: String) -> [(String, String)] { GatewayHarness.keyHeader + [("Idempotency-Key", key)] }

    /// Three at once with one key: one Dify call, one stored turn, three identical answers.
    @Test func concurrentRepeatsMakeOneDifyCall() async throws {
        try await GatewayHarness.with(
            fakeOptions: FakeDifyOptions(apiKeys: [GatewayHarness.difyKey], tokenDelay: .milliseconds(50))
        ) { gateway in
            let replies = try await withThrowingTaskGroup(of: GatewayHarness.Reply.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await gateway.call(
                            .POST, "/v1/chat", headers: Self.keyed("order-1"), json: Self.chat("/tokens 10"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.map(\.status) == [200, 200, 200])
            #expect(Set(replies.map(\.text)).count == 1)
            #expect(Set(replies.compactMap { $0.headers.first(name: "X-Turn-Id") }).count == 1)
            #expect(replies.filter { $0.headers.first(name: "Idempotent-Replayed") == "true" }.count == 2)
            #expect(await gateway.fake.store.chatRequestCount == 1)
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").count == 2)

            // After the end: the same answer again, and still one call.
            let replay = try await gateway.call(
                .POST, "/v1/chat", headers: Self.keyed("order-1"), json: Self.chat("/tokens 10"))
            #expect(replay.status == 200 && replay.text == replies[0].text)
            #expect(replay.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(await gateway.fake.store.chatRequestCount == 1)

            // Another request with that key, and a key that is not one.
            let other = try await gateway.call(
                .POST, "/v1/chat", headers: Self.keyed("order-1"), json: Self.chat("other"))
            #expect(other.status == 422)
            #expect(other.detail?.contains("Idempotency-Key") == true)
            let malformed = try await gateway.call(
                .POST, "/v1/chat", headers: Self.keyed(String(repeating: "k", count: 256)), json: Self.chat())
            #expect(malformed.status == 400)
            #expect(await gateway.fake.store.chatRequestCount == 1)
            // Another caller's key of the same text is theirs.
            let theirs = try await gateway.call(
                .POST, "/v1/chat", headers: Self.keyed("order-1"), json: Self.chat("/tokens 10", user: "u2"))
            #expect(theirs.status == 422, "one API key is one scope: the same key for another user is another request")
        }
    }

    /// A streaming repeat while the first runs reads the same turn from its start.
    @Test func aStreamingRepeatAttachesToTheRunningTurn() async throws {
        try await GatewayHarness.with(fakeOptions: ChatStreamingTests.slow) { gateway in
            let first = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: Self.keyed("s-1"), json: Self.chat("/tokens 20", stream: true))
            _ = try await first.next()
            let second = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: Self.keyed("s-1"), json: Self.chat("/tokens 20", stream: true))
            #expect(second.headers.first(name: "X-Turn-Id") == first.headers.first(name: "X-Turn-Id"))
            let events = try await second.readAll()
            #expect(events.first?.name == "start")
            #expect(TurnEndpointTests.deltas(events) == ChatStreamingTests.expected)
            #expect(events.last?.name == "done")
            _ = try await first.readAll()
            #expect(await gateway.fake.store.chatRequestCount == 1)
        }
    }

    /// Repeats sent at once are answered from the first even when the first holds the user's only stream slot.
    @Test func concurrentStreamingRepeatsShareTheUsersOnlySlot() async throws {
        try await GatewayHarness.with(fakeOptions: ChatStreamingTests.slow, adjust: { $0.maxStreamsPerUser = 1 }) {
            gateway in
            let replies = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        let stream = try await SSETestClient.open(
                            gateway.baseURL + "/v1/chat", headers: Self.keyed("slot-1"),
                            json: Self.chat("/tokens 20", stream: true))
                        return (stream.status, TurnEndpointTests.deltas(try await stream.readAll()))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(replies.map(\.0) == [200, 200, 200])
            #expect(replies.allSatisfy { $0.1 == ChatStreamingTests.expected })
            #expect(await gateway.fake.store.chatRequestCount == 1)
        }
    }

    /// A confirmed repeat spends nothing: at the user's rate limit it is still answered.
    @Test func aRepeatAtTheRateLimitIsAnsweredAndNotCounted() async throws {
        try await GatewayHarness.with(adjust: { $0.rateLimitPerUser = RateLimit(count: 1, period: 60) }) { gateway in
            let first = try await gateway.call(.POST, "/v1/chat", headers: Self.keyed("r-1"), json: Self.chat())
            #expect(first.status == 200)
            let limited = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: Self.chat("next"))
            #expect(limited.status == 429)
            let repeated = try await gateway.call(.POST, "/v1/chat", headers: Self.keyed("r-1"), json: Self.chat())
            #expect(repeated.status == 200 && repeated.text == first.text)
            #expect(await gateway.fake.store.chatRequestCount == 1)
        }
    }

    /// A request that never reached Dify may be sent again with its key; Dify's own refusal is replayed.
    @Test func aFailureBeforeDifyFreesTheKeyAndDifysRefusalIsReplayed() async throws {
        try await GatewayHarness.with { gateway in
            await gateway.fake.store.setFault(.httpError(status: 503, code: "service_unavailable", message: "down"))
            let down = try await gateway.call(.POST, "/v1/chat", headers: Self.keyed("f-1"), json: Self.chat())
            #expect(down.status == 503 || down.status == 502)
            await gateway.fake.store.setFault(nil)
            let retried = try await gateway.call(.POST, "/v1/chat", headers: Self.keyed("f-1"), json: Self.chat())
            #expect(retried.status == 200)
            #expect(retried.headers.first(name: "Idempotent-Replayed") == nil)

            await gateway.fake.store.setFault(.httpError(status: 400, code: "invalid_param", message: "bad input"))
            let refused = try await gateway.call(.POST, "/v1/chat", headers: Self.keyed("f-2"), json: Self.chat())
            #expect(refused.status >= 400)
            await gateway.fake.store.setFault(nil)
            let again = try await gateway.call(.POST, "/v1/chat", headers: Self.keyed("f-2"), json: Self.chat())
            #expect(again.status == refused.status && again.text == refused.text)
            #expect(again.headers.first(name: "Idempotent-Replayed") == "true")
        }
    }

    /// A stream Dify refused at its head: the repeat gets the same HTTP error, without asking Dify again.
    @Test func aStreamRefusedAtItsHeadIsRefusedAgain() async throws {
        try await GatewayHarness.with { gateway in
            await gateway.fake.store.setFault(.httpError(status: 400, code: "invalid_param", message: "bad input"))
            let body = Self.chat(stream: true)
            let refused = try await gateway.call(.POST, "/v1/chat", headers: Self.keyed("h-1"), json: body)
            #expect(refused.status >= 400)
            let calls = await gateway.fake.store.chatRequestCount
            await gateway.fake.store.setFault(nil)
            let again = try await gateway.call(.POST, "/v1/chat", headers: Self.keyed("h-1"), json: body)
            #expect(again.status == refused.status && again.text == refused.text)
            #expect(again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(await gateway.fake.store.chatRequestCount == calls)
        }
    }

    /// `/dify/v1`: the same key rules, in Dify's shapes.
    @Test func difyClientsRepeatWithTheSameKeyToo() async throws {
        try await GatewayHarness.with { gateway in
            let headers = [
                ("Authorization", "Bearer \(GatewayHarness.apiKey)"), ("X-Gateway-System", "drillquiz"),
                ("Idempotency-Key", "d-1"),
            ]
            let body: [String: Any] = ["query": "hi", "user": "u1", "inputs": [:], "response_mode": "blocking"]
            let first = try await gateway.call(.POST, "/dify/v1/chat-messages", headers: headers, json: body)
            #expect(first.status == 200)
            #expect(first.headers.first(name: "X-Turn-Id") != nil)
            let again = try await gateway.call(.POST, "/dify/v1/chat-messages", headers: headers, json: body)
            #expect(again.status == 200 && again.object["answer"] as? String == first.object["answer"] as? String)
            #expect(again.object["message_id"] as? String == first.object["message_id"] as? String)
            #expect(again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(await gateway.fake.store.chatRequestCount == 1)
        }
    }
}
