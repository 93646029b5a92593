import Fluent
import Foundation
import Testing

@testable import ChatGateway

/// `GET /chat` and `GET /chat-api`: who may open the page, what it answers otherwise, and its headers.
@Suite("Chat page", .hangLimit)
struct ChatPageEndpointTests {
    @Test(arguments: ["/chat", "/chat-api"])
    func aValidTokenOpensThePageAndRegistersTheUser(path: String) async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(user: "page-user")
            let reply = try await gateway.call(.GET, "\(path)?token=\(token)")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
            #expect(reply.text.contains(#"data-token="\#(token)""#))
            #expect(reply.text.contains(#"data-system="drillquiz""#))
            #expect(reply.text.contains(#"<html lang="en""#))
            #expect(reply.text.contains(#"data-mode="full""#))
            let users = try await ChatUser.query(on: gateway.app.db).filter(\.$userID == "page-user").all()
            #expect(users.map(\.systemID) == ["drillquiz"])
        }
    }

    @Test func securityHeadersForbidInlineScriptAndAllowEmbedding() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(.GET, "/chat?token=\(try await gateway.token())")
            let csp = try #require(reply.headers.first(name: "Content-Security-Policy"))
            for directive in [
                "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
                "media-src 'self' blob:", "connect-src 'self'", "object-src 'none'", "base-uri 'none'",
                "frame-ancestors *",
            ] {
                #expect(csp.contains(directive), "CSP lacks \(directive)")
            }
            #expect(!csp.contains("unsafe-inline"))
            #expect(reply.headers.first(name: "Referrer-Policy") == "no-referrer")
            #expect(reply.headers.first(name: "X-Content-Type-Options") == "nosniff")
            #expect(reply.headers.first(name: "Cache-Control") == "no-store")
            #expect(reply.headers.first(name: "X-Frame-Options") == nil)
            // Every script is a file of the gateway's; no element carries an inline handler.
            let scripts = reply.text.components(separatedBy: "<script").dropFirst()
            #expect(scripts.count == 4)
            #expect(scripts.allSatisfy { $0.hasPrefix(#" src="/chat-assets/"#) })
            #expect(reply.text.contains(#"<script src="/chat-assets/chat/main.js" type="module">"#))
            #expect(reply.text.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil)
            #expect(
                !reply.text.contains("http://") && !reply.text.contains("https://"),
                "the page must not load anything from another host")
        }
    }

    @Test func framingIsLimitedToTheAllowedOriginsWhenSet() async throws {
        try await GatewayHarness.with(adjust: {
            $0.allowedChatTokenOrigins = ["https://lms.example", "http://localhost:8080"]
        }) { gateway in
            let reply = try await gateway.call(.GET, "/chat?token=\(try await gateway.token())&embed=1")
            let csp = try #require(reply.headers.first(name: "Content-Security-Policy"))
            #expect(csp.contains("frame-ancestors 'self' https://lms.example http://localhost:8080"))
            #expect(!csp.contains("frame-ancestors *"))
            #expect(reply.text.contains(#"data-mode="embed""#))
            // The error page (here: no token) is framed by the same sites only and carries the same headers.
            let refused = try await gateway.call(.GET, "/chat?embed=1")
            #expect(refused.status == 401)
            #expect(refused.headers.first(name: "Content-Security-Policy") == csp)
            #expect(refused.headers.first(name: "Referrer-Policy") == "no-referrer")
            #expect(refused.headers.first(name: "X-Content-Type-Options") == "nosniff")
        }
    }

    @Test(arguments: [
        ("missing", 401, "This page needs a chat link."),
        ("expired", 401, "This chat link has expired."),
        ("forged", 401, "This chat link is not valid."),
        ("unsigned", 401, "This chat link is not valid."),
        ("garbage", 401, "This chat link is not valid."),
    ])
    func aBadTokenGetsTheFriendlyErrorPage(kind: String, status: Int, text: String) async throws {
        let past = Date().addingTimeInterval(-60)
        let token: String? =
            switch kind {
            case "expired":
                try await ChatTokenService(secret: GatewayHarness.jwtSecret, now: { past.addingTimeInterval(-86_400) })
                    .issue(systemID: "drillquiz", userID: "u1")
            case "forged":
                try await ChatTokenService(secret: "another-secret").issue(systemID: "drillquiz", userID: "u1")
            case "unsigned":
                TestTokens.unsigned([
                    "system_id": "drillquiz", "user_id": "u1", "exp": Date().timeIntervalSince1970 + 3600,
                ])
            case "garbage": "not.a.jwt"
            default: nil
            }
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(.GET, "/chat" + (token.map { "?token=\($0)" } ?? ""))
            #expect(reply.status == status)
            #expect(reply.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
            #expect(reply.text.contains(#"<p id="error-text">\#(text)</p>"#))
            #expect(reply.text.contains(#"data-refusal=""#))
            #expect(!reply.text.contains("data-token"))
            #expect(!reply.text.contains(#""detail""#))
            #expect(reply.headers.first(name: "Content-Security-Policy") != nil)
            #expect(try await ChatUser.query(on: gateway.app.db).count() == 0)
        }
    }

    @Test func aSystemThatIsNotAllowedIs403() async throws {
        try await GatewayHarness.with(adjust: { $0.allowedSystemIDs = ["cointutor"] }) { gateway in
            let reply = try await gateway.call(
                .GET, "/chat?token=\(try await gateway.token(system: "drillquiz"))&lang=es")
            #expect(reply.status == 403)
            #expect(reply.text.contains("El chat no está disponible para esta cuenta."))
        }
    }

    @Test func whatTheTokenCarriesIsEscaped() async throws {
        try await GatewayHarness.with { gateway in
            let user = #""><script>alert(1)</script>"#
            let token = try await gateway.token(user: user)
            let reply = try await gateway.call(.GET, "/chat?token=\(token)&lang=%22%3E%3Cb%3E")
            #expect(reply.status == 200)
            #expect(!reply.text.contains("<script>alert"))
            #expect(reply.text.contains(#"data-user="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;""#))
            #expect(!reply.text.contains("<b>"))
        }
    }
}
