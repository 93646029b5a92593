import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// `CHAT_GATEWAY_BROWSER_KEY`: a key a web page may carry, good only for chat tokens of anonymous visitors.
@Suite("Browser key", .hangLimit)
struct BrowserKeyTests {
    static let browserKey = "browser-key-0123456789"
    static let browserHeader = [("X-API-Key", browserKey)]
    static let onlyTokens = "This key may only request chat tokens"

    static func withBrowserKey<T>(
        scope: KeyScope = .allSystems, adjust: @escaping (inout Settings) -> Void = { _ in },
        _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        try await GatewayHarness.with(
            adjust: {
                $0.browserKeys = [APIKeyEntry(key: browserKey, scope: scope)]
                adjust(&$0)
            }, body)
    }

    static let mine = "system_id=drillquiz&user_id=anonymous"
    static let someID = "6f1c1a52-2f0b-4a59-9d55-3a3c3e4a5b6c"

    /// Everything but `GET /v1/chat-token`, for the key's own system and an anonymous user.
    static let otherCalls: [(HTTPMethod, String, [String: any Sendable]?)] = [
        (.POST, "/v1/chat", ["system_id": "drillquiz", "user_id": "anonymous", "message": "hi"]),
        (.POST, "/v1/chat", ["system_id": "drillquiz", "user_id": "anonymous", "message": "hi", "stream": true]),
        (.GET, "/v1/conversations?\(mine)", nil),
        (.GET, "/v1/conversations/\(someID)/messages?\(mine)", nil),
        (.DELETE, "/v1/conversations/\(someID)?\(mine)", nil),
        (.POST, "/v1/conversations/\(someID)/name", ["system_id": "drillquiz", "user_id": "anonymous", "name": "x"]),
        (
            .POST, "/v1/messages/\(someID)/feedbacks",
            ["system_id": "drillquiz", "user_id": "anonymous", "rating": "like"]
        ),
        (.GET, "/v1/messages/\(someID)/suggested?\(mine)", nil),
        (.POST, "/v1/chat/task-1/stop", ["system_id": "drillquiz", "user_id": "anonymous"]),
        (.GET, "/v1/cache/conversations", nil),
        (.GET, "/v1/cache/conversations/\(someID)/messages", nil),
        (.GET, "/v1/cache/export", nil),
        (.POST, "/v1/sync", nil),
    ]

    @Test(arguments: otherCalls.indices)
    func refusedEverywhereButChatTokens(index: Int) async throws {
        let (method, path, json) = Self.otherCalls[index]
        try await Self.withBrowserKey { gateway in
            // when
            let reply = try await gateway.call(method, path, headers: Self.browserHeader, json: json)
            // then
            #expect(reply.status == 403, "\(method) \(path)")
            #expect(reply.detail == Self.onlyTokens, "\(method) \(path)")
        }
    }

    @Test func cannotSignInToTheHistoryPage() async throws {
        try await Self.withBrowserKey { gateway in
            // when
            let reply = try await HistoryPageEndpointTests.signIn(gateway, key: Self.browserKey)
            // then
            #expect(reply.status == 403)
            #expect(HistoryPageEndpointTests.sessionCookie(reply) == nil)
        }
    }

    @Test func getsTokensForAnonymousVisitorsOnly() async throws {
        try await Self.withBrowserKey { gateway in
            // when
            let visitor = try await gateway.call(
                .GET, "/v1/chat-token?\(Self.mine)&lang=ko", headers: Self.browserHeader)
            let user = try await gateway.call(
                .GET, "/v1/chat-token?system_id=drillquiz&user_id=12345", headers: Self.browserHeader)
            // then
            #expect(visitor.status == 200)
            let userID = try #require(visitor.object["user_id"] as? String)
            #expect(AnonymousVisitor.isVisitorID(userID))
            #expect((visitor.object["ui"] as? [String: String])?["open"] == "채팅 열기")
            #expect(user.status == 403)
            #expect(
                user.detail == "A browser key may only request chat tokens for anonymous visitors (user_id=anonymous)")
        }
    }

    @Test func itsTokenChatsAsTheVisitorOnly() async throws {
        try await Self.withBrowserKey { gateway in
            // given
            let issued = try await gateway.call(.GET, "/v1/chat-token?\(Self.mine)", headers: Self.browserHeader)
            let token = try #require(issued.object["token"] as? String)
            let visitor = try #require(issued.object["user_id"] as? String)
            // when
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: [("Authorization", "Bearer \(token)")], json: ["message": "hi"])
            let asSomeoneElse = try await gateway.call(
                .GET, "/v1/conversations?system_id=drillquiz&user_id=12345",
                headers: [("Authorization", "Bearer \(token)")])
            // then
            #expect(chat.status == 200)
            #expect(try await gateway.messages(system: "drillquiz", user: visitor).count == 2)
            #expect(asSomeoneElse.status == 403)
        }
    }

    @Test func obeysItsScopeAndTheAllowedOrigins() async throws {
        try await Self.withBrowserKey(
            scope: .systems(["drillquiz"]), adjust: { $0.allowedChatTokenOrigins = ["https://drillquiz.example"] }
        ) { gateway in
            // when
            let allowed = try await gateway.call(
                .GET, "/v1/chat-token?\(Self.mine)",
                headers: Self.browserHeader + [("Origin", "https://drillquiz.example")])
            let elsewhere = try await gateway.call(
                .GET, "/v1/chat-token?\(Self.mine)", headers: Self.browserHeader + [("Origin", "https://evil.example")])
            let otherSystem = try await gateway.call(
                .GET, "/v1/chat-token?system_id=cointutor&user_id=anonymous", headers: Self.browserHeader)
            // then
            #expect(allowed.status == 200)
            #expect(allowed.headers.first(name: "Access-Control-Allow-Origin") == "https://drillquiz.example")
            #expect(elsewhere.status == 403)
            #expect(elsewhere.detail == "Origin not allowed")
            #expect(otherSystem.status == 403)
            #expect(
                otherSystem.detail == "This API key is limited to system_id drillquiz: it may not act for other systems"
            )
        }
    }
}
