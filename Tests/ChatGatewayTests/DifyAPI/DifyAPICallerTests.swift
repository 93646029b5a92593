import FakeDify
import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// Who may call `/dify/v1`, for which system, and what it answers for URLs Dify's chat API does not have.
@Suite("Dify API: callers and routes", .hangLimit)
struct DifyAPICallerTests {
    @Test func whatIsNoServerKeyIsDifys401AndNeverReachesDify() async throws {
        try await DifyAPIHarness.with(adjust: {
            $0.browserKeys = [APIKeyEntry(key: "browser-key-0123456789", scope: .systems(["drillquiz"]))]
        }) { gateway in
            let token = try await gateway.token(system: "drillquiz", user: "u1")
            let refusedHeaders: [[(String, String)]] = [
                [],
                [("X-API-Key", DifyAPIHarness.drillquizKey)],
                DifyAPIHarness.bearer(token),
                DifyAPIHarness.bearer("browser-key-0123456789"),
                DifyAPIHarness.bearer("no-such-key"),
            ]
            for headers in refusedHeaders {
                let reply = try await gateway.call(
                    .POST, "/dify/v1/chat-messages", headers: headers,
                    json: ["query": "hi", "inputs": [:], "user": "u1"])
                #expect(DifyAPIHarness.isDifyError(reply, status: 401, code: "unauthorized"), "\(reply.text)")
                #expect(reply.headers.first(name: "WWW-Authenticate") == #"Bearer realm="api""#)
                let listing = try await gateway.call(.GET, "/dify/v1/conversations?user=u1", headers: headers)
                #expect(listing.status == 401)
            }
            #expect(await gateway.fake.store.requestCount == 0)
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").isEmpty)
        }
    }

    @Test func aKeyOfSeveralSystemsNamesTheOneItActsFor() async throws {
        try await DifyAPIHarness.with { gateway in
            let body: [String: Any] = ["query": "hi", "inputs": [:], "user": "u1"]
            let unnamed = try await gateway.call(
                .POST, "/dify/v1/chat-messages", headers: DifyAPIHarness.bearer(GatewayHarness.apiKey), json: body)
            #expect(DifyAPIHarness.isDifyError(unnamed, status: 400, code: "invalid_param"))
            #expect((unnamed.object["message"] as? String)?.contains("X-Gateway-System") == true)

            let named = try await gateway.call(
                .POST, "/dify/v1/chat-messages",
                headers: DifyAPIHarness.bearer(GatewayHarness.apiKey, system: "cointutor"), json: body)
            #expect(named.status == 200, "\(named.text)")
            #expect(try await gateway.messages(system: "cointutor", user: "u1").count == 2)
            #expect(await gateway.fake.store.conversationIDs(user: "cointutor_u1").count == 1)

            // A key of one system acts for it unasked, and for no other when asked.
            let own = try await DifyAPIHarness.chat(gateway)
            #expect(own.status == 200)
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").count == 2)
            let other = try await gateway.call(
                .POST, "/dify/v1/chat-messages",
                headers: DifyAPIHarness.bearer(DifyAPIHarness.drillquizKey, system: "cointutor"), json: body)
            #expect(DifyAPIHarness.isDifyError(other, status: 403, code: "forbidden"), "\(other.text)")
        }
    }

    @Test func aKeyAndASystemMadeInTheAdminAPIReachThatSystemsOwnDify() async throws {
        let own = try await FakeDifyServer.start(
            store: FakeDifyStore(options: FakeDifyOptions(apiKeys: ["app-own-9f2c"])))
        defer { Task { try? await own.shutdown() } }
        try await AdminAPITests.withAdmin { gateway in
            let admin = AdminAPITests.admin
            let system = try await gateway.call(
                .POST, "/admin/v1/systems", headers: admin,
                json: ["system_id": "cointutor", "dify_base_url": own.baseURL, "dify_api_key": "app-own-9f2c"])
            #expect(system.status == 201)
            let created = try await gateway.call(
                .POST, "/admin/v1/keys", headers: admin,
                json: ["name": "CoinTutor's Dify client", "systems": ["cointutor"], "kind": "server"])
            let key = try #require(created.object["key"] as? String)

            let chat = try await DifyAPIHarness.chat(gateway, key: key, user: "amy")
            #expect(chat.status == 200, "\(chat.text)")
            #expect(await own.store.conversationIDs(user: "cointutor_amy").count == 1)
            #expect(await gateway.fake.store.requestCount == 0)
            let parameters = try await gateway.call(.GET, "/dify/v1/parameters", headers: DifyAPIHarness.bearer(key))
            #expect(parameters.status == 200 && parameters.object["opening_statement"] != nil)
        }
    }

    @Test func urlsDifysChatAPIHasNotAreItsOwn404() async throws {
        try await DifyAPIHarness.with { gateway in
            let key = DifyAPIHarness.bearer(DifyAPIHarness.drillquizKey)
            let unknown: [(HTTPMethod, String, [(String, String)])] = [
                (.POST, "/dify/v1/workflows/run", key),
                (.POST, "/dify/v1/completion-messages", key),
                (.GET, "/dify/v1/datasets", key),
                (.GET, "/dify/v1/site", key),
                (.GET, "/dify/v1/app/feedbacks", key),
                (.GET, "/dify/v1/files/\(UUID().uuidString.lowercased())/preview", key),
                (.GET, "/dify/v1/conversations/\(UUID().uuidString.lowercased())/variables?user=u1", key),
                (.GET, "/dify/v1", key),
                // As in Dify, the route is matched before the key is looked at.
                (.GET, "/dify/v1/no-such-thing", []),
                (.DELETE, "/dify/v1/conversations/not-a-uuid", key),
                (.POST, "/dify/v1/messages/not-a-uuid/feedbacks", key),
            ]
            for (method, path, headers) in unknown {
                let reply = try await gateway.call(method, path, headers: headers, json: ["user": "u1"])
                #expect(DifyAPIHarness.isURLNotFound(reply), "\(method) \(path): \(reply.status) \(reply.text)")
            }
            #expect(await gateway.fake.store.requestCount == 0)
        }
    }

    @Test func theKeyIsCheckedBeforeTheBody() async throws {
        try await DifyAPIHarness.with { gateway in
            let noKey = try await gateway.call(.POST, "/dify/v1/chat-messages", rawBody: Data("not json".utf8))
            #expect(DifyAPIHarness.isDifyError(noKey, status: 401, code: "unauthorized"), "\(noKey.text)")
        }
    }

    @Test func difyRefusingTheGatewaysOwnKeyIsABadGatewayNotTheClientsBadKey() async throws {
        try await DifyAPIHarness.with { gateway in
            await gateway.fake.store.setOptions(FakeDifyOptions(apiKeys: ["app-some-other-key"]))
            let reply = try await DifyAPIHarness.chat(gateway)
            #expect(DifyAPIHarness.isDifyError(reply, status: 502, code: "bad_gateway"), "\(reply.text)")
            #expect(reply.headers.first(name: "WWW-Authenticate") == nil)
        }
    }

    @Test func badRequestsAreDifys400() async throws {
        try await DifyAPIHarness.with { gateway in
            let key = DifyAPIHarness.bearer(DifyAPIHarness.drillquizKey)
            let notJSON = try await gateway.call(
                .POST, "/dify/v1/chat-messages", headers: key, rawBody: Data("hi".utf8))
            #expect(DifyAPIHarness.isDifyError(notJSON, status: 400, code: "bad_request"))
            let noUser = try await gateway.call(
                .POST, "/dify/v1/chat-messages", headers: key, json: ["query": "hi", "inputs": [:]])
            #expect(DifyAPIHarness.isDifyError(noUser, status: 400, code: "invalid_param"))
            let badMode = try await gateway.call(
                .POST, "/dify/v1/chat-messages", headers: key,
                json: ["query": "hi", "inputs": [:], "user": "u1", "response_mode": "sideways"])
            #expect(DifyAPIHarness.isDifyError(badMode, status: 400, code: "invalid_param"))
            let invisibleUser = try await DifyAPIHarness.chat(gateway, user: "a\u{202E}b")
            #expect(
                DifyAPIHarness.isDifyError(invisibleUser, status: 400, code: "invalid_param"), "\(invisibleUser.text)")
            #expect(await gateway.fake.store.requestCount == 0)
        }
    }
}
