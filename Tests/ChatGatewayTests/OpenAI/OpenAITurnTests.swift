import FakeDify
import Foundation
import JWTKit
import SQLKit
import Testing

@testable import ChatGateway

@Suite("OpenAI API: tasks, limits, retries, failures and images", .hangLimit)
struct OpenAITurnTests {
    typealias H = OpenAIHarness

    @Test func aTaskIsAnsweredCountedAndKeptOutOfTheHistory() async throws {
        try await H.with { gateway in
            let title = try await H.chat(gateway, [H.user("name this chat")], headers: [("X-Gateway-Task", "title")])
            #expect(title.status == 200 && title.headers.first(name: "X-Gateway-Conversation") == "task")
            let openWebUI = try await H.chat(gateway, [H.user("### Task:\nGenerate 1-3 broad tags")])
            #expect(openWebUI.headers.first(name: "X-Gateway-Conversation") == "task")
            #expect(try await H.fakeList(gateway, "conversations?user=drillquiz_u1").isEmpty)
            let usage = try await gateway.call(.GET, "/v1/usage?group_by=system", headers: GatewayHarness.keyHeader)
            let totals = usage.object["totals"] as? [String: Any]
            #expect(totals?["tasks"] as? Int == 2 && totals?["chats"] as? Int == 2)
        }
    }

    @Test func aSpentBudgetIsInsufficientQuotaNotToBeRetried() async throws {
        try await H.with(adjust: {
            $0.budgetPerUser = try! BudgetLimit.parseList("3 tokens/day", variable: "BUDGET_PER_USER")
        }) { gateway in
            #expect(try await H.chat(gateway, [H.user("hi")]).status == 200)
            let refused = try await H.chat(gateway, [H.user("again")])
            #expect(refused.status == 429 && H.errorCode(refused) == "insufficient_quota")
            #expect((refused.object["error"] as? [String: Any])?["type"] as? String == "insufficient_quota")
            #expect(refused.headers.first(name: "x-should-retry") == "false")
            #expect(refused.headers.first(name: "Retry-After") != nil)
        }
    }

    @Test func aRateLimitIsRateLimitExceededWithRetryAfter() async throws {
        try await H.with(adjust: { $0.rateLimitPerUser = try! Settings.parseRateLimit("1/h", variable: "x") }) {
            gateway in
            #expect(try await H.chat(gateway, [H.user("hi")]).status == 200)
            let refused = try await H.chat(gateway, [H.user("again")])
            #expect(refused.status == 429 && H.errorCode(refused) == "rate_limit_exceeded")
            #expect(
                refused.headers.first(name: "Retry-After") != nil
                    && refused.headers.first(name: "x-should-retry") == nil)
        }
    }

    @Test func aRetryWithTheSameIdempotencyKeyIsTheSameAnswer() async throws {
        try await H.with { gateway in
            let key = [("Idempotency-Key", "retry-1")]
            let first = try await H.chat(gateway, [H.user("once")], headers: key)
            // A retry after the first turn was remembered: its history would match now, and must not matter.
            let again = try await H.chat(gateway, [H.user("once")], headers: key)
            #expect(first.object["id"] as? String == again.object["id"] as? String)
            #expect(again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(await gateway.fake.store.chatRequestCount == 1)
            let other = try await H.chat(gateway, [H.user("different")], headers: key)
            #expect(other.status == 422 && H.errorCode(other) == "idempotency_key_reused")
        }
    }

    @Test func aDifyErrorMidStreamIsAnErrorLineAndTheTurnFails() async throws {
        try await H.with { gateway in
            await gateway.fake.store.setFault(.streamError(afterChunks: 1))
            let reply = try await H.chat(gateway, [H.user("break please now")], extra: ["stream": true])
            #expect(reply.status == 200)
            let lines = H.dataLines(reply)
            #expect(!lines.contains { $0 as? String == "[DONE]" })
            let last = try #require(lines.last as? [String: Any])
            #expect((last["error"] as? [String: Any])?["message"] != nil)
            let turnID = try #require(reply.headers.first(name: "X-Turn-Id"))
            let turn = try await gateway.call(
                .GET, "/v1/turns/\(turnID)?system_id=drillquiz&user_id=u1", headers: GatewayHarness.keyHeader)
            #expect(turn.object["status"] as? String == "failed")
        }
    }

    @Test func imagePartsReachDifyAsFiles() async throws {
        var options = FakeDifyOptions(apiKeys: [GatewayHarness.difyKey])
        options.imageUploadEnabled = true
        try await H.with(fakeOptions: options) { gateway in
            let png = "data:image/png;base64," + Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).base64EncodedString()
            let reply = try await H.chat(
                gateway,
                [
                    [
                        "role": "user",
                        "content": [
                            ["type": "text", "text": "what is this"], ["type": "image_url", "image_url": ["url": png]],
                            ["type": "image_url", "image_url": ["url": "https://example.com/cat.jpg"]],
                        ],
                    ]
                ])
            #expect(reply.status == 200)
            let uploads = await gateway.fake.store.uploads
            #expect(
                uploads.count == 1 && uploads.first?.user == "drillquiz_u1" && uploads.first?.mimeType == "image/png")
            let conversation = try #require(reply.headers.first(name: "X-Conversation-Id"))
            let message = try #require(
                try await H.fakeList(gateway, "messages?conversation_id=\(conversation)&user=drillquiz_u1").first)
            let files = message["message_files"] as? [[String: Any]] ?? []
            #expect(files.compactMap { $0["transfer_method"] as? String } == ["local_file", "remote_url"])
            #expect(message["query"] as? String == "what is this")
        }
    }

    @Test func anImageAloneIsAMessage() async throws {
        var options = FakeDifyOptions(apiKeys: [GatewayHarness.difyKey])
        options.imageUploadEnabled = true
        try await H.with(fakeOptions: options) { gateway in
            let image = ["type": "image_url", "image_url": ["url": "https://example.com/cat.jpg"]] as [String: Any]
            let reply = try await H.chat(gateway, [["role": "user", "content": [image]]])
            #expect(reply.status == 200)
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").first?.content == "[image]")
        }
    }

    @Test func anIdempotentRepeatUploadsNothingAgain() async throws {
        var options = FakeDifyOptions(apiKeys: [GatewayHarness.difyKey])
        options.imageUploadEnabled = true
        try await H.with(fakeOptions: options) { gateway in
            let png = "data:image/png;base64," + Data([0x89, 0x50, 0x4E, 0x47]).base64EncodedString()
            let message: [String: Any] = [
                "role": "user",
                "content": [["type": "text", "text": "this"], ["type": "image_url", "image_url": ["url": png]]],
            ]
            let first = try await H.chat(gateway, [message], headers: [("Idempotency-Key", "img-1")])
            let again = try await H.chat(gateway, [message], headers: [("Idempotency-Key", "img-1")])
            #expect(first.status == 200 && again.headers.first(name: "Idempotent-Replayed") == "true")
            #expect(await gateway.fake.store.uploads.count == 1)
        }
    }

    @Test func aConversationDeletedSinceIsNotContinued() async throws {
        try await H.with { gateway in
            let key = [("X-Conversation-Id", "kept")]
            let first = try await H.chat(gateway, [H.user("one")], headers: key)
            let conversation = try #require(first.headers.first(name: "X-Conversation-Id"))
            let deleted = try await gateway.call(
                .DELETE, "/v1/conversations/\(conversation)?system_id=drillquiz&user_id=u1",
                headers: GatewayHarness.keyHeader)
            #expect(deleted.status < 300)
            let next = try await H.chat(gateway, [H.user("two")], headers: key)
            #expect(next.status == 200 && next.headers.first(name: "X-Gateway-Conversation") == "new")
        }
    }

    @Test func imagesForAnAppThatTakesNoneAreRefused() async throws {
        try await H.with { gateway in
            let reply = try await H.chat(
                gateway,
                [
                    [
                        "role": "user",
                        "content": [
                            ["type": "text", "text": "look"],
                            ["type": "image_url", "image_url": ["url": "https://example.com/cat.jpg"]],
                        ],
                    ]
                ])
            #expect(reply.status == 400 && H.errorCode(reply) == "unsupported_value")
            // Bad input, as a refused `n`: nothing is stored, and Dify is not asked.
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").isEmpty)
            #expect(await gateway.fake.store.chatRequestCount == 0)
        }
    }
}

/// Signs a token as Open WebUI does (`FORWARD_USER_INFO_HEADER_JWT_SECRET`).
enum OpenWebUISigner {
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var iss: IssuerClaim
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func sign(sub: String, secret: String) async throws -> String {
        try await ChatTokenService.keyCollection(secret).sign(
            Claims(
                sub: .init(value: sub), exp: .init(value: Date().addingTimeInterval(300)),
                iss: .init(value: "open-webui")))
    }
}
