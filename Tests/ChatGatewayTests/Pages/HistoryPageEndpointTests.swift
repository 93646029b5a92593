import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Testing
import Vapor

@testable import ChatGateway

/// `GET /cache`, `POST /cache/login`, `POST /cache/logout`: the history page's sign-in, its session cookie,
/// the seed's `?api_key=` link, and what the cookie then opens.
@Suite("History page", .hangLimit)
struct HistoryPageEndpointTests {
    static let form = [("Content-Type", "application/x-www-form-urlencoded")]
    /// The harness's client follows redirects; these tests check the 303s themselves and the cookies they set.
    static let noRedirects = HTTPClient(
        eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    /// Like `GatewayHarness.call`, but a redirect comes back as it is.
    static func call(
        _ gateway: GatewayHarness, _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [],
        body: String? = nil
    ) async throws -> GatewayHarness.Reply {
        var request = HTTPClientRequest(url: gateway.baseURL + path)
        request.method = method
        request.headers.add(contentsOf: headers)
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let response = try await noRedirects.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return GatewayHarness.Reply(
            status: Int(response.status.code), headers: response.headers, body: Data(buffer: bytes))
    }

    static func signIn(
        _ gateway: GatewayHarness, key: String = GatewayHarness.apiKey, path: String = "/cache/login",
        headers: [(String, String)] = []
    ) async throws -> GatewayHarness.Reply {
        let body = "api_key=" + (key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key)
        return try await call(gateway, .POST, path, headers: form + headers, body: body)
    }

    /// The `cg_operator` cookie a reply sets: its value and its attributes, lower-cased.
    static func sessionCookie(_ reply: GatewayHarness.Reply) -> (value: String, attributes: [String])? {
        guard let header = reply.headers[canonicalForm: "Set-Cookie"].first(where: { $0.hasPrefix("cg_operator=") })
        else { return nil }
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        return (String(parts[0].dropFirst("cg_operator=".count)), parts.dropFirst().map { $0.lowercased() })
    }

    static func signedInCookie(_ gateway: GatewayHarness) async throws -> (String, String) {
        let value = try #require(sessionCookie(try await signIn(gateway))?.value)
        return ("Cookie", "cg_operator=\(value)")
    }

    @Test func withoutASessionTheSignInFormIsShown() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await Self.call(gateway, .GET, "/cache")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
            #expect(reply.text.contains(#"<form class="signin-card" method="post" action="/cache/login">"#))
            #expect(reply.text.contains(#"name="api_key" type="password""#))
            #expect(reply.text.contains(#"<label for="api-key">API key</label>"#))
            #expect(!reply.text.contains("<script"), "the sign-in form needs no script")
            #expect(Self.sessionCookie(reply) == nil)
        }
    }

    @Test func signingInSetsAStrictHttpOnlyCookieAndRedirectsKeepingTheParameters() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await Self.signIn(gateway, path: "/cache/login?lang=ko&system_id=drillquiz")
            #expect(reply.status == 303)
            #expect(reply.headers.first(name: .location) == "/cache?lang=ko&system_id=drillquiz")
            let cookie = try #require(Self.sessionCookie(reply))
            #expect(cookie.attributes.contains("httponly"))
            #expect(cookie.attributes.contains("samesite=strict"))
            #expect(cookie.attributes.contains("path=/"))
            #expect(!cookie.attributes.contains("secure"), "plain http on localhost must get a cookie it can send back")
            #expect(!cookie.value.contains(GatewayHarness.apiKey))

            let page = try await Self.call(
                gateway, .GET, "/cache?lang=ko&system_id=drillquiz",
                headers: [("Cookie", "cg_operator=\(cookie.value)")])
            #expect(page.status == 200)
            #expect(page.text.contains(#"<html lang="ko""#))
            #expect(page.text.contains(#"id="results-table""#))
            #expect(page.text.contains(#"<input id="filter-system-id" name="system_id" type="text" value="drillquiz""#))
            #expect(page.text.contains("대화 기록"))
        }
    }

    @Test func theCookieOpensTheCacheAPIAndSyncNeedsTheFetchHeader() async throws {
        try await GatewayHarness.with { gateway in
            let cookie = try await Self.signedInCookie(gateway)
            #expect(
                try await Self.call(gateway, .GET, "/v1/cache/conversations?limit=5", headers: [cookie]).status == 200)
            #expect(
                try await Self.call(gateway, .GET, "/v1/cache/export?format=jsonl", headers: [cookie]).status == 200)
            #expect(try await Self.call(gateway, .POST, "/v1/sync", headers: [cookie]).status == 403)
            let sync = try await Self.call(
                gateway, .POST, "/v1/sync", headers: [cookie, ("X-Requested-With", "fetch")])
            #expect(sync.status == 200)
            #expect(sync.object["users"] != nil)
            #expect(
                try await Self.call(
                    gateway, .GET, "/v1/cache/conversations", headers: [("Cookie", "cg_operator=forged.value.x")]
                ).status == 401)
        }
    }

    @Test func aWrongKeyGetsTheFormAgainWith401AndNoCookie() async throws {
        try await GatewayHarness.with { gateway in
            for reply in [
                try await Self.signIn(gateway, key: "wrong-key"),
                try await Self.call(gateway, .GET, "/cache?api_key=wrong-key"),
                try await Self.signIn(gateway, key: ""),
            ] {
                #expect(reply.status == 401)
                #expect(reply.text.contains("That API key is not valid."))
                #expect(reply.text.contains(#"role="alert""#))
                #expect(Self.sessionCookie(reply) == nil)
                #expect(!reply.text.contains("wrong-key"))
            }
        }
    }

    @Test func theSeedsApiKeyLinkIsExchangedForTheCookieAndDropped() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await Self.call(
                gateway, .GET, "/cache?lang=ja&api_key=\(GatewayHarness.apiKey)&q=hello%20world")
            #expect(reply.status == 303)
            let location = try #require(reply.headers.first(name: .location))
            #expect(location == "/cache?lang=ja&q=hello%20world")
            #expect(!location.contains("api_key"))
            #expect(Self.sessionCookie(reply) != nil)
        }
    }

    @Test func theCookieIsSecureWhenTheBrowserCameOverHTTPS() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await Self.signIn(gateway, headers: [("X-Forwarded-Proto", "https")])
            #expect(try #require(Self.sessionCookie(reply)).attributes.contains("secure"))
        }
    }

    @Test func aSignInPostedFromAnotherSiteIsRefused() async throws {
        try await GatewayHarness.with { gateway in
            let host = String(gateway.baseURL.dropFirst("http://".count))
            for headers in [
                [("Origin", "https://evil.example")], [("Origin", "null")], [("Sec-Fetch-Site", "cross-site")],
                [("Origin", "http://\(host).evil.example")],
            ] {
                let reply = try await Self.signIn(gateway, headers: headers)
                #expect(reply.status == 403, "\(headers)")
                #expect(Self.sessionCookie(reply) == nil)
                #expect(reply.text.contains("This sign-in did not come from this page."))
            }
            let sameOrigin = try await Self.signIn(
                gateway, headers: [("Origin", gateway.baseURL), ("Sec-Fetch-Site", "same-origin")])
            #expect(sameOrigin.status == 303)
            let proxied = try await Self.signIn(
                gateway, headers: [("Origin", "https://gateway.example"), ("X-Forwarded-Host", "gateway.example")])
            #expect(proxied.status == 303)
        }
    }

    @Test func signingOutClearsTheCookie() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await Self.call(
                gateway, .POST, "/cache/logout?lang=es", headers: [try await Self.signedInCookie(gateway)])
            #expect(reply.status == 303)
            #expect(reply.headers.first(name: .location) == "/cache?lang=es")
            let cookie = try #require(Self.sessionCookie(reply))
            #expect(cookie.value.isEmpty)
            #expect(cookie.attributes.contains("max-age=0"))
            #expect(
                try await Self.call(gateway, .POST, "/cache/logout", headers: [("Origin", "https://evil.example")])
                    .status == 403)
        }
    }

    @Test func aDeadSessionShowsTheFormSayingSoAndDropsTheCookie() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await Self.call(gateway, .GET, "/cache", headers: [("Cookie", "cg_operator=1.abc.def")])
            #expect(reply.status == 200)
            #expect(reply.text.contains("Your session has ended. Please sign in again."))
            #expect(Self.sessionCookie(reply)?.value == "")
        }
    }

    @Test func theLanguageComesFromLangThenAcceptLanguage() async throws {
        try await GatewayHarness.with { gateway in
            let spanish = try await Self.call(
                gateway, .GET, "/cache", headers: [("Accept-Language", "fr;q=0.9, es-MX;q=0.8")])
            #expect(spanish.text.contains(#"<html lang="es""#))
            #expect(spanish.text.contains(">Iniciar sesión</button>"))
            let chinese = try await Self.call(gateway, .GET, "/cache?lang=zh-CN", headers: [("Accept-Language", "es")])
            #expect(chinese.text.contains(#"<html lang="zh""#))
            #expect(chinese.text.contains(#"action="/cache/login?lang=zh-CN""#))
            #expect(try await Self.call(gateway, .GET, "/cache?lang=xx").text.contains(#"<html lang="en""#))
        }
    }

    @Test func headersForbidInlineScriptFramingAndForeignForms() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await Self.call(
                gateway, .GET, "/cache?q=%3Cscript%3Ealert(1)%3C/script%3E%22",
                headers: [try await Self.signedInCookie(gateway)])
            let csp = try #require(reply.headers.first(name: "Content-Security-Policy"))
            for directive in [
                "default-src 'self'", "script-src 'self'", "style-src 'self'", "form-action 'self'",
                "frame-ancestors 'none'",
            ] {
                #expect(csp.contains(directive), "CSP lacks \(directive)")
            }
            #expect(!csp.contains("unsafe-inline"))
            #expect(reply.headers.first(name: "X-Frame-Options") == "DENY")
            #expect(reply.headers.first(name: "Referrer-Policy") == "same-origin")
            #expect(reply.headers.first(name: "X-Content-Type-Options") == "nosniff")
            #expect(reply.headers.first(name: "Cache-Control") == "no-store")
            let scripts = reply.text.components(separatedBy: "<script").dropFirst()
            #expect(scripts.count == 2)
            #expect(scripts.allSatisfy { $0.hasPrefix(#" src="/chat-assets/"#) })
            #expect(reply.text.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil)
            #expect(reply.text.contains(#"value="&lt;script&gt;alert(1)&lt;/script&gt;&quot;""#))
            #expect(!reply.text.contains("<script>alert"))
        }
    }

    @Test func theKeyNeverReachesTheLog() async throws {
        try await GatewayHarness.with { gateway in
            let capture = LogCapture()
            gateway.app.logger = Logger(label: "capture") { _ in CapturingLogHandler(capture: capture) }
            let statuses = [
                try await Self.call(gateway, .GET, "/cache?api_key=\(GatewayHarness.apiKey)").status,
                try await Self.call(gateway, .GET, "/cache?api_key=wrong-secret-key-42").status,
                try await Self.signIn(gateway).status,
                try await Self.signIn(gateway, key: "another-wrong-key-43").status,
            ]
            #expect(statuses == [303, 401, 303, 401])
            let lines = capture.lines
            #expect(lines.contains { $0.contains("/cache/login") }, "the capture saw no request: \(lines)")
            for secret in [GatewayHarness.apiKey, "wrong-secret-key-42", "another-wrong-key-43"] {
                #expect(!lines.contains { $0.contains(secret) })
            }
        }
    }

    @Test func thePagesOwnFilesAreServed() async throws {
        try await GatewayHarness.with { gateway in
            let script = try await Self.call(gateway, .GET, "/chat-assets/history.js")
            #expect(script.status == 200)
            #expect(script.headers.first(name: "Content-Type")?.hasPrefix("application/javascript") == true)
            #expect(script.text.contains("credentials: 'same-origin'"))
            #expect(!script.text.contains("innerHTML"))
            let style = try await Self.call(gateway, .GET, "/chat-assets/history.css")
            #expect(style.status == 200)
            #expect(style.headers.first(name: "Content-Type")?.hasPrefix("text/css") == true)
        }
    }
}
