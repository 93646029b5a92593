import Foundation
import Testing

@testable import ChatGateway

/// `GET /admin`, `POST /admin/login`, `POST /admin/logout`: the console's sign-in, its `cg_admin` cookie, and what
/// that cookie opens (the admin API, with `X-Requested-With` for changes) and does not (the history API).
@Suite("Admin console", .hangLimit)
struct AdminConsoleTests {
    static let adminKey = AdminAPITests.adminKey

    static func signIn(
        _ gateway: GatewayHarness, key: String = adminKey, headers: [(String, String)] = []
    )
        async throws -> GatewayHarness.Reply
    {
        let body = "admin_key=" + (key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key)
        return try await HistoryPageEndpointTests.call(
            gateway, .POST, "/admin/login", headers: HistoryPageEndpointTests.form + headers, body: body)
    }

    /// The `cg_admin` cookie a reply sets: its value and its attributes, lower-cased.
    static func adminCookie(_ reply: GatewayHarness.Reply) -> (value: String, attributes: [String])? {
        guard let header = reply.headers[canonicalForm: "Set-Cookie"].first(where: { $0.hasPrefix("cg_admin=") })
        else { return nil }
        let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        return (String(parts[0].dropFirst("cg_admin=".count)), parts.dropFirst().map { $0.lowercased() })
    }

    static func signedIn(_ gateway: GatewayHarness) async throws -> (String, String) {
        let value = try #require(adminCookie(try await signIn(gateway))?.value)
        return ("Cookie", "cg_admin=\(value)")
    }

    @Test func withoutAnAdminKeyConfiguredTheConsoleIs403() async throws {
        try await GatewayHarness.with { gateway in
            for reply in [try await gateway.call(.GET, "/admin"), try await Self.signIn(gateway)] {
                #expect(reply.status == 403)
                #expect(reply.detail == "The admin API is disabled: set CHAT_GATEWAY_ADMIN_KEY")
            }
        }
    }

    @Test func withoutASessionTheSignInFormIsShownInTheAskedLanguage() async throws {
        try await AdminAPITests.withAdmin { gateway in
            let reply = try await HistoryPageEndpointTests.call(gateway, .GET, "/admin")
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "Content-Type")?.hasPrefix("text/html") == true)
            #expect(reply.text.contains(#"<label for="admin-key">Admin key</label>"#))
            #expect(reply.text.contains(#"action="/admin/login""#))
            #expect(!reply.text.contains("admin.js"), "the form works without the console's script")
            let csp = try #require(reply.headers.first(name: "Content-Security-Policy"))
            #expect(csp.contains("frame-ancestors 'none'"))
            #expect(csp.contains("script-src 'self'"))
            #expect(reply.headers.first(name: "X-Frame-Options") == "DENY")

            let korean = try await HistoryPageEndpointTests.call(gateway, .GET, "/admin?lang=ko")
            #expect(korean.text.contains(#"<html lang="ko""#))
            #expect(korean.text.contains(AdminPageStrings.korean.title))
        }
    }

    @Test func aRightKeyGivesAStrictHttpOnlyCookieAndTheConsole() async throws {
        try await AdminAPITests.withAdmin { gateway in
            let reply = try await Self.signIn(gateway)
            #expect(reply.status == 303)
            #expect(reply.headers.first(name: "Location") == "/admin")
            let cookie = try #require(Self.adminCookie(reply))
            #expect(cookie.attributes.contains("httponly"))
            #expect(cookie.attributes.contains("samesite=strict"))
            #expect(!reply.text.contains(Self.adminKey))

            let console = try await HistoryPageEndpointTests.call(
                gateway, .GET, "/admin", headers: [("Cookie", "cg_admin=\(cookie.value)")])
            #expect(console.status == 200)
            #expect(console.text.contains(#"<script src="/chat-assets/admin.js"></script>"#))
            #expect(console.text.contains(#"id="systems-body""#))
            #expect(!console.text.contains(Self.adminKey))
        }
    }

    @Test func theCookieOpensTheAdminAPIAndChangesNeedTheScriptHeader() async throws {
        try await AdminAPITests.withAdmin { gateway in
            let cookie = try await Self.signedIn(gateway)
            #expect(try await gateway.call(.GET, "/admin/v1/systems", headers: [cookie]).status == 200)
            let key = ["name": "quiz backend", "systems": ["drillquiz"], "kind": "server"] as [String: Any]
            let bare = try await gateway.call(.POST, "/admin/v1/keys", headers: [cookie], json: key)
            #expect(bare.status == 403, "a cross-site form could send the cookie, never this header")
            let created = try await gateway.call(
                .POST, "/admin/v1/keys", headers: [cookie, ("X-Requested-With", "fetch")], json: key)
            #expect(created.status == 201)
            let audit = try await gateway.adminStore.audit(
                from: nil, to: nil, limit: 10, before: nil)
            let entry = try #require(audit.first { $0.action == "key.created" })
            #expect(entry.actor == AdminGuard.fingerprint(Self.adminKey))
        }
    }

    @Test func aWrongKeyIsRefusedAuditedAndLimitedLikeTheAPI() async throws {
        // A stopped clock: on a loaded machine the allowance must not refill between the tries.
        let stopped = Date()
        try await AdminAPITests.withAdmin(now: { stopped }) { gateway in
            let wrong = try await Self.signIn(gateway, key: "not-the-admin-key")
            #expect(wrong.status == 401)
            #expect(wrong.text.contains(HTMLText.escape(AdminPageStrings.english.wrongKey)))
            #expect(Self.adminCookie(wrong) == nil)
            // A client key is no admin key.
            #expect(try await Self.signIn(gateway, key: GatewayHarness.apiKey).status == 401)
            for _ in 0..<8 { _ = try await Self.signIn(gateway, key: "not-the-admin-key") }
            let limited = try await Self.signIn(gateway)
            #expect(limited.status == 429)
            #expect(Int(limited.headers.first(name: "Retry-After") ?? "") ?? 0 >= 1)
            #expect(Self.adminCookie(limited) == nil)
            let failures = try await gateway.adminStore.audit(
                from: nil, to: nil, limit: 50, before: nil
            ).filter { $0.action == "admin.sign_in_failed" }
            #expect(failures.count == 10)
        }
    }

    @Test func aSignInFromAnotherSiteIsRefused() async throws {
        try await AdminAPITests.withAdmin { gateway in
            let reply = try await Self.signIn(gateway, headers: [("Origin", "https://evil.example")])
            #expect(reply.status == 403)
            #expect(Self.adminCookie(reply) == nil)
        }
    }

    @Test func theHistoryAndAdminSessionsDoNotOpenEachOther() async throws {
        try await AdminAPITests.withAdmin { gateway in
            let history = try await HistoryPageEndpointTests.signedInCookie(gateway)
            let asAdmin = ("Cookie", history.1.replacingOccurrences(of: "cg_operator=", with: "cg_admin="))
            #expect(try await gateway.call(.GET, "/admin/v1/systems", headers: [history]).status == 401)
            #expect(try await gateway.call(.GET, "/admin/v1/systems", headers: [asAdmin]).status == 401)

            let admin = try await Self.signedIn(gateway)
            let asOperator = ("Cookie", admin.1.replacingOccurrences(of: "cg_admin=", with: "cg_operator="))
            #expect(try await gateway.call(.GET, "/v1/cache/conversations", headers: [asOperator]).status == 401)
        }
    }

    @Test func signingOutEndsTheSessionEverywhere() async throws {
        try await AdminAPITests.withAdmin { gateway in
            let cookie = try await Self.signedIn(gateway)
            let out = try await HistoryPageEndpointTests.call(gateway, .POST, "/admin/logout", headers: [cookie])
            #expect(out.status == 303)
            #expect(Self.adminCookie(out)?.value == "")
            #expect(try await gateway.call(.GET, "/admin/v1/systems", headers: [cookie]).status == 401)
            let page = try await HistoryPageEndpointTests.call(gateway, .GET, "/admin", headers: [cookie])
            #expect(page.text.contains(HTMLText.escape(AdminPageStrings.english.sessionEnded)))
        }
    }

    @Test(arguments: ["es", "ko", "zh", "ja"])
    func everyConsoleStringIsTranslatedWithTheSamePlaceholders(lang: String) throws {
        func fields(_ strings: AdminPageStrings) throws -> [String: String] {
            try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(strings)) as? [String: String])
        }
        func placeholders(_ text: String) -> Set<String> {
            Set(text.matches(of: /\{[a-z]+\}/).map { String($0.output) })
        }
        let english = try fields(.english)
        let translated = try fields(.forLanguage(lang))
        let untranslated = english.keys.filter { english[$0] == translated[$0] }
        #expect(untranslated.isEmpty, "\(lang) keeps English for \(untranslated.sorted())")
        for (key, text) in english {
            #expect(placeholders(translated[key] ?? "") == placeholders(text), "\(lang).\(key)")
        }
    }

    @Test func theConsoleFilesAreServed() async throws {
        try await GatewayHarness.with { gateway in
            for (file, type) in [("admin.js", "application/javascript"), ("admin.css", "text/css")] {
                let reply = try await gateway.call(.GET, "/chat-assets/\(file)")
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "Content-Type")?.hasPrefix(type) == true)
            }
        }
    }
}
