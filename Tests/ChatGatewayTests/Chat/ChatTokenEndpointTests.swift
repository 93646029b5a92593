import Foundation
import Testing

@testable import ChatGateway

@Suite("GET /v1/chat-token", .hangLimit)
struct ChatTokenEndpointTests {
    @Test func issuesAUsableToken() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(
                .GET, "/v1/chat-token?system_id=drillquiz&user_id=u1", headers: GatewayHarness.keyHeader)
            #expect(reply.status == 200)
            #expect(reply.object["ui"] == nil)
            let token = try #require(reply.object["token"] as? String)
            let service = await ChatTokenService(secret: GatewayHarness.jwtSecret)
            let identity = try await service.verify(token)
            // The token names the key that minted it, by a keyed digest that does not reveal the key.
            #expect(
                identity
                    == TokenIdentity(
                        systemID: "drillquiz", userID: "u1", mintingKeyID: service.keyID(of: GatewayHarness.apiKey)))
            #expect(!token.contains(GatewayHarness.apiKey))
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: [("Authorization", "Bearer \(token)")], json: ["message": "hi"])
            #expect(chat.status == 200)
        }
    }

    @Test(arguments: [
        ("en", "Open chat"), ("es", "Abrir chat"), ("ko", "채팅 열기"), ("zh", "打开聊天"), ("ja", "チャットを開く"),
        ("ko-KR", "채팅 열기"), ("fr", "Open chat"),
    ])
    func includesTheWidgetStrings(lang: String, open: String) async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(
                .GET, "/v1/chat-token?system_id=drillquiz&user_id=u1&lang=\(lang)", headers: GatewayHarness.keyHeader)
            let ui = try #require(reply.object["ui"] as? [String: String])
            #expect(ui["open"] == open)
            #expect(Set(ui.keys) == ["title", "close", "open", "tokenError", "loading"])
        }
    }

    @Test func needsAKeyNotAToken() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token()
            let reply = try await gateway.call(
                .GET, "/v1/chat-token?system_id=drillquiz&user_id=u1", headers: [("Authorization", "Bearer \(token)")])
            #expect(reply.status == 401)
            let missing = try await gateway.call(
                .GET, "/v1/chat-token?system_id=drillquiz", headers: GatewayHarness.keyHeader)
            #expect(missing.status == 400)
            let malformed = try await gateway.call(
                .GET, "/v1/chat-token?system_id=Drill_Quiz&user_id=u1", headers: GatewayHarness.keyHeader)
            #expect(malformed.status == 422)
        }
    }

    @Test func checksOriginsAndAnswersCORS() async throws {
        try await GatewayHarness.with(adjust: { $0.allowedChatTokenOrigins = ["http://localhost:8080"] }) { gateway in
            let path = "/v1/chat-token?system_id=drillquiz&user_id=u1"
            let allowed = try await gateway.call(
                .GET, path, headers: GatewayHarness.keyHeader + [("Origin", "http://localhost:8080")])
            #expect(allowed.status == 200)
            #expect(allowed.headers.first(name: "Access-Control-Allow-Origin") == "http://localhost:8080")
            let refused = try await gateway.call(
                .GET, path, headers: GatewayHarness.keyHeader + [("Origin", "https://evil.example")])
            #expect(refused.status == 403)
            let viaReferer = try await gateway.call(
                .GET, path, headers: GatewayHarness.keyHeader + [("Referer", "https://evil.example/x")])
            #expect(viaReferer.status == 403)
            let backend = try await gateway.call(.GET, path, headers: GatewayHarness.keyHeader)
            #expect(backend.status == 200)
            let preflight = try await gateway.call(
                .OPTIONS, path,
                headers: [
                    ("Origin", "http://localhost:8080"), ("Access-Control-Request-Method", "GET"),
                    ("Access-Control-Request-Headers", "X-API-Key"),
                ])
            #expect(preflight.headers.first(name: "Access-Control-Allow-Origin") == "http://localhost:8080")
            // The allowed origin depends on the request's Origin: a shared cache must key on it.
            for reply in [allowed, refused, preflight] {
                #expect(reply.headers[.vary].contains { $0.lowercased().contains("origin") }, "\(reply.headers)")
            }
        }
    }
}
