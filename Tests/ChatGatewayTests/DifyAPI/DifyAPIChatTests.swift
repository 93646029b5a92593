import FakeDify
import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// `POST /dify/v1/chat-messages` is `/v1/chat` underneath: stored first, limited, metered, on Dify's wire.
@Suite("Dify API: chat", .hangLimit)
struct DifyAPIChatTests {
    @Test func aBlockingAnswerIsDifysAndStoredAsTheClientsUser() async throws {
        try await DifyAPIHarness.with { gateway in
            let reply = try await DifyAPIHarness.chat(gateway, query: "hello there")
            #expect(reply.status == 200, "\(reply.text)")
            let answer = reply.object
            #expect(answer["event"] as? String == "message")
            #expect(answer["answer"] as? String == "Echo: hello there")
            let messageID = try #require(answer["message_id"] as? String)
            let conversationID = try #require(answer["conversation_id"] as? String)
            #expect(answer["id"] as? String == messageID)
            #expect((answer["task_id"] as? String)?.isEmpty == false)
            #expect(answer["mode"] as? String != nil)
            #expect(answer["created_at"] as? Int != nil)
            let usage = try #require((answer["metadata"] as? [String: Any])?["usage"] as? [String: Any])
            #expect(usage["total_tokens"] as? Int ?? 0 > 0)
            // Dify's ids unchanged; Dify knows the user as `{system}_{user}`, the gateway as the client's.
            #expect(await gateway.fake.store.conversationIDs(user: "drillquiz_u1") == [conversationID])
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.map(\.role) == ["user", "assistant"])
            #expect(stored.allSatisfy { $0.conversationID == conversationID })
            #expect(stored.allSatisfy { $0.messageID.hasPrefix(messageID) })

            let continued = try await DifyAPIHarness.chat(gateway, query: "more", conversationID: conversationID)
            #expect(continued.object["conversation_id"] as? String == conversationID)
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").count == 4)
        }
    }

    @Test func aStreamIsDifysEventsInDifysOrderAndEndsInTheRecordsAndTheLedger() async throws {
        try await DifyAPIHarness.with { gateway in
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/dify/v1/chat-messages", headers: DifyAPIHarness.bearer(DifyAPIHarness.drillquizKey),
                json: DifyAPIHarness.streamBody(query: "/tokens 3"))
            #expect(stream.status == 200)
            #expect(stream.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true)
            let events = try await stream.readAll()
            #expect(events.map { $0.data["event"] as? String } == ["message", "message", "message", "message_end"])
            #expect(events.map { $0.data["answer"] as? String ?? "" }.joined() == "tok1 tok2 tok3")
            let conversationID = try #require(events.first?.data["conversation_id"] as? String)
            #expect(events.allSatisfy { $0.data["conversation_id"] as? String == conversationID })
            #expect(Set(events.compactMap { $0.data["task_id"] as? String }).count == 1)
            // Dify's framing only: `data:` lines, no gateway event names.
            #expect(!stream.rawText.contains("event: start") && !stream.rawText.contains("event: done"))
            let usage = try #require(
                (events.last?.data["metadata"] as? [String: Any])?["usage"] as? [String: Any])

            let cached = try await gateway.call(
                .GET, "/v1/cache/conversations/\(conversationID)/messages", headers: GatewayHarness.keyHeader)
            #expect(cached.array.map { $0["role"] as? String } == ["user", "assistant"])
            #expect(cached.array.last?["content"] as? String == "tok1 tok2 tok3")
            #expect(cached.array.last?["status"] as? String == "complete")
            let report = try await gateway.call(
                .GET, "/v1/usage?group_by=system,user", headers: GatewayHarness.keyHeader)
            let row = try #require((report.object["rows"] as? [[String: Any]])?.first)
            #expect(row["system_id"] as? String == "drillquiz" && row["user_id"] as? String == "u1")
            #expect(row["completed"] as? Int == 1)
            #expect(row["total_tokens"] as? Int == usage["total_tokens"] as? Int)
        }
    }

    @Test func theUsersMessageIsStoredWhateverDifyAnswersAndDifysErrorPassesThrough() async throws {
        try await DifyAPIHarness.with { gateway in
            await gateway.fake.store.setFault(
                .httpError(status: 400, code: "provider_not_initialize", message: "No valid model provider"))
            let reply = try await DifyAPIHarness.chat(gateway, query: "keep me")
            #expect(DifyAPIHarness.isDifyError(reply, status: 400, code: "provider_not_initialize"), "\(reply.text)")
            #expect(reply.object["message"] as? String == "No valid model provider")
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.map(\.content) == ["keep me"])
            #expect(stored.first?.status == .failed)
        }
    }

    @Test func aRateLimitIsDifys429WithRetryAfter() async throws {
        let clock = TestClock()
        try await GatewayHarness.with(
            adjust: {
                $0.apiKeys += [APIKeyEntry(key: DifyAPIHarness.drillquizKey, scope: .systems(["drillquiz"]))]
                $0.rateLimitPerUser = RateLimit(count: 1, period: 60)
            }, dependencies: .init(now: clock.now)
        ) { gateway in
            #expect(try await DifyAPIHarness.chat(gateway).status == 200)
            let refused = try await DifyAPIHarness.chat(gateway)
            #expect(DifyAPIHarness.isDifyError(refused, status: 429, code: "too_many_requests"), "\(refused.text)")
            #expect(refused.headers.first(name: "Retry-After") == "60")
            #expect(await gateway.fake.store.chatRequestCount == 1)
        }
    }

    @Test func aUsedUpBudgetIsDifys429AndTheMessageIsKept() async throws {
        try await DifyAPIHarness.with(adjust: {
            $0.budgetPerUser = try! BudgetLimit.parseList("50 tokens/day", variable: "BUDGET_PER_USER")
        }) { gateway in
            #expect(try await DifyAPIHarness.chat(gateway, query: "/tokens 60").status == 200)
            let refused = try await DifyAPIHarness.chat(gateway, query: "one more")
            #expect(DifyAPIHarness.isDifyError(refused, status: 429, code: "too_many_requests"), "\(refused.text)")
            #expect(refused.headers.first(name: "Retry-After") != nil)
            #expect(refused.headers.first(name: "X-Budget-Resets") != nil)
            #expect(await gateway.fake.store.chatRequestCount == 1)
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.last?.content == "one more" && stored.last?.status == .refused)
        }
    }

    @Test func anOpenBreakerIsDifys503() async throws {
        try await DifyAPIHarness.with(adjust: {
            $0.difyCircuitFailures = 2
            $0.difyCircuitCooldown = .seconds(30)
        }) { gateway in
            await gateway.fake.store.setFault(.nonJSONError(status: 503))
            for _ in 0..<2 { #expect(try await DifyAPIHarness.chat(gateway).status == 503) }
            let refused = try await DifyAPIHarness.chat(gateway, query: "while open")
            #expect(DifyAPIHarness.isDifyError(refused, status: 503, code: "service_unavailable"), "\(refused.text)")
            #expect(refused.headers.first(name: "Retry-After") != nil)
            #expect(await gateway.fake.store.chatRequestCount == 2)
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").map(\.content).last == "while open")
        }
    }

    @Test func anUploadReachesDifyAsTheGatewaysUserWithinItsLimit() async throws {
        try await DifyAPIHarness.with(adjust: { $0.maxUploadBytes = 4096 }) { gateway in
            let key = DifyAPIHarness.bearer(DifyAPIHarness.drillquizKey)
            let (type, body) = DifyAPIHarness.form(file: "notes.txt", bytes: 1000, user: "u1")
            let uploaded = try await gateway.call(
                .POST, "/dify/v1/files/upload", headers: key + [("Content-Type", type)], rawBody: body)
            #expect(uploaded.status == 201, "\(uploaded.text)")
            #expect(uploaded.object["name"] as? String == "notes.txt" && uploaded.object["size"] as? Int == 1000)
            let anonymous = DifyAPIHarness.form(file: "b.txt", bytes: 10, user: nil)
            let second = try await gateway.call(
                .POST, "/dify/v1/files/upload", headers: key + [("Content-Type", anonymous.contentType)],
                rawBody: anonymous.body)
            #expect(second.status == 201)
            #expect(await gateway.fake.store.uploads.map(\.user) == ["drillquiz_u1", "drillquiz_DEFAULT-USER"])

            let large = DifyAPIHarness.form(file: "big.txt", bytes: 5000, user: "u1")
            let tooLarge = try await gateway.call(
                .POST, "/dify/v1/files/upload", headers: key + [("Content-Type", large.contentType)],
                rawBody: large.body)
            #expect(DifyAPIHarness.isDifyError(tooLarge, status: 413, code: "file_too_large"), "\(tooLarge.text)")
            #expect(
                tooLarge.object["message"] as? String == "Request body too large: at most 4096 bytes (MAX_UPLOAD_BYTES)"
            )
            // A body that is no form at all is, as in Dify, a form without a file.
            let empty = try await gateway.call(
                .POST, "/dify/v1/files/upload", headers: key + [("Content-Type", "multipart/form-data; boundary=b")],
                rawBody: Data("--b--\r\n".utf8))
            #expect(DifyAPIHarness.isDifyError(empty, status: 400, code: "no_file_uploaded"), "\(empty.text)")
            #expect(await gateway.fake.store.uploads.count == 2)
        }
    }
}
