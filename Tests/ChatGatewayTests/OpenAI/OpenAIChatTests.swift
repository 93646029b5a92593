import FakeDify
import Foundation
import Testing

@testable import ChatGateway

@Suite("OpenAI API: models and chats", .hangLimit)
struct OpenAIChatTests {
    typealias H = OpenAIHarness

    @Test func modelsAreTheSystemsTheKeyMayUse() async throws {
        try await H.with { gateway in
            let scoped = try await gateway.call(.GET, "/openai/v1/models", headers: H.bearer())
            #expect(scoped.status == 200 && scoped.object["object"] as? String == "list")
            let ids = (scoped.object["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["drillquiz"])
            let all = try await gateway.call(.GET, "/openai/v1/models", headers: H.bearer(GatewayHarness.apiKey))
            #expect(
                (all.object["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [
                    "coin-tutor", "drillquiz",
                ])
            let one = try await gateway.call(
                .GET, "/openai/v1/models/coin-tutor", headers: H.bearer(GatewayHarness.apiKey))
            #expect(one.status == 200 && one.object["object"] as? String == "model" && one.object["owned_by"] != nil)
            let hidden = try await gateway.call(.GET, "/openai/v1/models/coin-tutor", headers: H.bearer())
            #expect(hidden.status == 404 && H.errorCode(hidden) == "model_not_found")
        }
    }

    @Test func keysOtherThanServerKeysAreRefused() async throws {
        try await H.with(adjust: { $0.browserKeys = [APIKeyEntry(key: "browser-key-0123456789")] }) { gateway in
            let token = try await gateway.token()
            for key in ["wrong-key", "browser-key-0123456789", token] {
                let reply = try await H.chat(gateway, [H.user("hi")], key: key)
                #expect(reply.status == 401 && H.errorCode(reply) == "invalid_api_key")
                #expect(reply.headers.first(name: "WWW-Authenticate") == "Bearer")
            }
            let none = try await gateway.call(.GET, "/openai/v1/models")
            #expect(
                none.status == 401
                    && (none.object["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")
        }
    }

    @Test func anotherSystemsModelIsNotFoundAndDifyIsNotCalled() async throws {
        try await H.with { gateway in
            let before = await gateway.fake.store.chatRequestCount
            for model in ["coin-tutor", "cointutor", "nope"] {
                let reply = try await H.chat(gateway, [H.user("hi")], model: model)
                #expect(reply.status == 404 && H.errorCode(reply) == "model_not_found")
            }
            #expect(await gateway.fake.store.chatRequestCount == before)
        }
    }

    @Test func aBlockingAnswerIsAChatCompletionAndIsStored() async throws {
        try await H.with { gateway in
            let reply = try await H.chat(
                gateway, [["role": "system", "content": "be brief"], H.user("hello")],
                extra: ["temperature": 0.2, "max_tokens": 10])
            #expect(reply.status == 200)
            #expect(reply.object["object"] as? String == "chat.completion")
            let turnID = try #require(reply.headers.first(name: "X-Turn-Id"))
            #expect(reply.object["id"] as? String == "chatcmpl-\(turnID)")
            #expect(H.content(of: reply) == "Echo: hello")
            let usage = reply.object["usage"] as? [String: Any]
            #expect(usage?["total_tokens"] as? Int == 3)
            #expect(
                reply.headers.first(name: "X-Gateway-Ignored-Parameters") == "max_tokens, temperature, system_message")
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.map(\.content) == ["hello", "Echo: hello"])
            // The system message went nowhere: not into the query, and the app has no variable for it.
            #expect(await gateway.fake.store.lastChatRequestBody?.contains("be brief") == false)
        }
    }

    @Test func aSystemMessageIsAnInputWhenTheAppDeclaresOne() async throws {
        var options = FakeDifyOptions(apiKeys: [GatewayHarness.difyKey])
        options.inputVariables = ["system_prompt"]
        try await H.with(fakeOptions: options) { gateway in
            let reply = try await H.chat(gateway, [["role": "system", "content": "be brief"], H.user("hello")])
            #expect(reply.status == 200 && reply.headers.first(name: "X-Gateway-Ignored-Parameters") == nil)
            let sent = try #require(await gateway.fake.store.lastChatRequestBody)
            #expect(sent.contains(#""system_prompt":"be brief""#) && sent.contains(#""query":"hello""#))
        }
    }

    @Test func aStreamIsChunksOfOneIdThenUsageThenDone() async throws {
        try await H.with { gateway in
            let reply = try await H.chat(
                gateway, [H.user("stream me please")],
                extra: ["stream": true, "stream_options": ["include_usage": true]])
            #expect(
                reply.status == 200 && reply.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true
            )
            let lines = H.dataLines(reply)
            #expect(lines.last as? String == "[DONE]")
            let chunks = lines.compactMap { $0 as? [String: Any] }
            let turnID = try #require(reply.headers.first(name: "X-Turn-Id"))
            #expect(Set(chunks.compactMap { $0["id"] as? String }) == ["chatcmpl-\(turnID)"])
            #expect(Set(chunks.compactMap { $0["created"] as? Int }).count == 1)
            let deltas = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any] }
            #expect(deltas.first?["role"] as? String == "assistant")
            let text = deltas.compactMap { $0["content"] as? String }.joined()
            let finish = chunks.compactMap { ($0["choices"] as? [[String: Any]])?.first?["finish_reason"] as? String }
            #expect(finish == ["stop"])
            let last = try #require(chunks.last)
            #expect((last["choices"] as? [Any])?.isEmpty == true)
            #expect((last["usage"] as? [String: Any])?["prompt_tokens"] as? Int != nil)
            #expect(chunks.dropLast().allSatisfy { $0["usage"] is NSNull })
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.last?.content == text && text == "Echo: stream me please")
            let turn = try await gateway.call(
                .GET, "/v1/turns/\(turnID)?system_id=drillquiz&user_id=u1", headers: GatewayHarness.keyHeader)
            #expect(turn.object["status"] as? String == "completed")
        }
    }

    @Test func resendingTheHistoryContinuesOneDifyConversation() async throws {
        try await H.with { gateway in
            var messages: [[String: Any]] = []
            var conversations: Set<String> = []
            for (index, text) in ["one", "two", "three"].enumerated() {
                messages.append(H.user(text))
                let reply = try await H.chat(gateway, messages, extra: ["stream": index == 1])
                #expect(reply.status == 200)
                let answer =
                    index == 1
                    ? H.dataLines(reply).compactMap { $0 as? [String: Any] }.compactMap {
                        (($0["choices"] as? [[String: Any]])?.first?["delta"] as? [String: Any])?["content"] as? String
                    }.joined() : try #require(H.content(of: reply))
                messages.append(H.assistant(answer))
                #expect(reply.headers.first(name: "X-Gateway-Conversation") == (index == 0 ? "new" : "continued"))
                if let id = reply.headers.first(name: "X-Conversation-Id") { conversations.insert(id) }
            }
            let difyConversations = try await H.fakeList(gateway, "conversations?user=drillquiz_u1")
            #expect(difyConversations.count == 1)
            let id = try #require(difyConversations.first?["id"] as? String)
            let queries = try await H.fakeList(gateway, "messages?conversation_id=\(id)&user=drillquiz_u1")
                .compactMap { $0["query"] as? String }
            #expect(queries == ["one", "two", "three"])
            #expect(conversations == [id])
        }
    }

    @Test func aConversationKeyWinsOverTheHistory() async throws {
        try await H.with { gateway in
            let key = [("X-OpenWebUI-Chat-Id", "chat-42")]
            let first = try await H.chat(gateway, [H.user("k1")], headers: key)
            // A regenerated history that matches nothing: the key still names the conversation.
            let second = try await H.chat(gateway, [H.user("other"), H.assistant("x"), H.user("k2")], headers: key)
            #expect(second.headers.first(name: "X-Gateway-Conversation") == "continued")
            #expect(first.headers.first(name: "X-Conversation-Id") == second.headers.first(name: "X-Conversation-Id"))
            #expect(await gateway.fake.store.lastChatRequestBody?.contains(#""query":"k2""#) == true)
        }
    }

    @Test func historyThatMatchesNothingGoesToANewConversationAsATranscript() async throws {
        try await H.with { gateway in
            let reply = try await H.chat(gateway, [H.user("earlier"), H.assistant("an answer"), H.user("now")])
            #expect(reply.status == 200 && reply.headers.first(name: "X-Gateway-Conversation") == "transcript")
            let sent = try #require(await gateway.fake.store.lastChatRequestBody)
            #expect(sent.contains("Earlier in this conversation:\\nUser: earlier\\nAssistant: an answer\\n\\nnow"))
            // The user said only "now": that is what the gateway keeps as their message.
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.first?.content == "now")
        }
    }

    @Test func whatDifyAppsCannotDoIsRefused() async throws {
        try await H.with { gateway in
            let cases: [([String: Any], String)] = [
                (["n": 2], "n"), (["logprobs": true], "logprobs"),
                (["tools": [["type": "function", "function": ["name": "f"]]]], "tools"),
                (["response_format": ["type": "json_schema", "json_schema": ["name": "x"]]], "response_format"),
            ]
            for (extra, param) in cases {
                let reply = try await H.chat(gateway, [H.user("hi")], extra: extra)
                #expect(reply.status == 400 && H.errorCode(reply) == "unsupported_parameter")
                #expect((reply.object["error"] as? [String: Any])?["param"] as? String == param)
            }
            let ignoredTools = try await H.chat(
                gateway, [H.user("hi")], extra: ["tools": [["type": "function"]], "tool_choice": "none"])
            #expect(ignoredTools.status == 200)
            #expect(ignoredTools.headers.first(name: "X-Gateway-Ignored-Parameters") == "tool_choice, tools")
            let badUser = try await H.chat(gateway, [H.user("hi")], user: String(repeating: "u", count: 300))
            #expect(badUser.status == 400 && (badUser.object["error"] as? [String: Any])?["param"] as? String == "user")
            let noUser = try await H.chat(gateway, [H.user("hi"), H.assistant("x")])
            #expect(
                noUser.status == 400 && (noUser.object["error"] as? [String: Any])?["param"] as? String == "messages")
            let notJSON = try await gateway.call(
                .POST, "/openai/v1/chat/completions", headers: H.bearer(), rawBody: Data("nope".utf8))
            #expect(notJSON.status == 400 && notJSON.object["error"] != nil)
        }
    }

    @Test func theEndUserIsTheUserFieldElseOpenWebUIsElseTheKeys() async throws {
        try await H.with { gateway in
            _ = try await H.chat(gateway, [H.user("a")], user: "alice")
            _ = try await H.chat(gateway, [H.user("b")], user: nil, headers: [("X-OpenWebUI-User-Id", "bob")])
            _ = try await H.chat(gateway, [H.user("c")], user: nil)
            #expect(try await gateway.messages(system: "drillquiz", user: "alice").count == 2)
            #expect(try await gateway.messages(system: "drillquiz", user: "bob").count == 2)
            let keyID = await ChatTokenService(secret: GatewayHarness.jwtSecret).keyID(of: H.drillquizKey)
            #expect(try await gateway.messages(system: "drillquiz", user: "key-\(keyID)").count == 2)
        }
    }

    @Test func withASharedSecretOnlyASignedOpenWebUIUserIsBelieved() async throws {
        let secret = "open-webui-secret-0123456789abcdef"
        try await H.with(adjust: { $0.openWebUIUserJWTSecret = secret }) { gateway in
            let signed = try await OpenWebUISigner.sign(sub: "carol", secret: secret)
            let ok = try await H.chat(gateway, [H.user("a")], user: nil, headers: [("X-OpenWebUI-User-Jwt", signed)])
            #expect(ok.status == 200)
            #expect(try await gateway.messages(system: "drillquiz", user: "carol").count == 2)
            let forged = try await OpenWebUISigner.sign(sub: "carol", secret: "another-secret-0123456789abcdef")
            let refused = try await H.chat(
                gateway, [H.user("a")], user: nil, headers: [("X-OpenWebUI-User-Jwt", forged)])
            #expect(refused.status == 401)
            // The plain header is not believed once signing is configured.
            _ = try await H.chat(gateway, [H.user("b")], user: nil, headers: [("X-OpenWebUI-User-Id", "mallory")])
            #expect(try await gateway.messages(system: "drillquiz", user: "mallory").isEmpty)
        }
    }
}
