import FakeDify
import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// The second probe's attacks through admin-set Dify URLs: internal hosts and paths, redirects, bodies that are
/// not Dify's, a sealed or shared key sent to a host the admin chose, and the Dify check as a network oracle.
@Suite("Admin: Dify URLs", .hangLimit)
struct AdminDifyURLTests {
    static let admin = AdminAPITests.admin
    static let longKey = "app-own-0123456789abcdef"

    /// An admin gateway that allows no internal network, as production's default.
    static func withStrictAdmin<T>(
        allowing networks: [String] = [], _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        try await AdminAPITests.withAdmin({ settings in
            settings.difyAllowedNetworks = networks.compactMap(IPAddressRange.init)
        }) { try await body($0) }
    }

    static func create(_ gateway: GatewayHarness, _ fields: [String: Any]) async throws -> GatewayHarness.Reply {
        try await gateway.call(.POST, "/admin/v1/systems", headers: admin, json: fields)
    }

    @Test(arguments: [
        "http://127.0.0.1:9", "http://0x7f.1", "http://2130706433", "http://127.1", "http://[::1]",
        "http://[::ffff:127.0.0.1]", "http://localhost:80", "http://169.254.169.254", "http://10.0.0.1",
        "http://172.16.5.4", "http://192.168.1.1", "http://100.64.0.1", "http://0.0.0.0", "http://[fd00::1]",
        "http://[fe80::1]", "http://[64:ff9b::7f00:1]",
    ])
    func anInternalAddressInAnySpellingIsRefused(url: String) async throws {
        try await Self.withStrictAdmin { gateway in
            let reply = try await Self.create(
                gateway, ["system_id": "probe", "dify_base_url": url, "dify_api_key": Self.longKey])
            #expect(reply.status == 422, "\(url): \(reply.text)")
            #expect(reply.detail?.hasPrefix("dify_base_url: host") == true, "\(url): \(reply.text)")
            #expect(try await gateway.call(.GET, "/admin/v1/systems/probe", headers: Self.admin).status == 404)
        }
    }

    @Test(arguments: [
        ("http://user:pass@dify.example.com", "user-info"), ("https://dify.example.com/?", "query"),
        ("https://dify.example.com/internal?x=", "query"), ("https://dify.example.com#", "fragment"),
        ("https://@dify.example.com", "user-info"), ("ftp://dify.example.com", "http or https"),
    ])
    func aURLThatCouldChooseThePathOrCarryCredentialsIsRefused(url: String, problem: String) async throws {
        try await Self.withStrictAdmin { gateway in
            let reply = try await Self.create(
                gateway, ["system_id": "probe", "dify_base_url": url, "dify_api_key": Self.longKey])
            #expect(reply.status == 422)
            #expect(reply.detail?.contains(problem) == true, "\(url): \(reply.text)")
            #expect(!reply.text.contains("pass"))
        }
    }

    @Test func linkLocalIsRefusedEvenInsideTheAllowedNetworks() async throws {
        try await Self.withStrictAdmin(allowing: ["0.0.0.0/0", "::/0"]) { gateway in
            for url in ["http://169.254.169.254", "http://[fe80::1]"] {
                let reply = try await Self.create(
                    gateway, ["system_id": "probe", "dify_base_url": url, "dify_api_key": Self.longKey])
                #expect(reply.status == 422 && reply.detail?.contains("link-local") == true, "\(url)")
            }
            let loopback = try await Self.create(
                gateway,
                ["system_id": "probe", "dify_base_url": gateway.fake.baseURL, "dify_api_key": GatewayHarness.difyKey])
            #expect(loopback.status == 201, "\(loopback.text)")
        }
    }

    @Test func addressesAreCheckedAgainBeforeEachCall() async throws {
        try await GatewayHarness.with { gateway in
            // Saved while loopback was allowed; the client now allows nothing internal.
            let client = HTTPDifyClient(http: HTTPClient.shared, timeout: .seconds(5))
            let target = DifyTarget(
                baseURL: URL(string: gateway.fake.baseURL)!, apiKey: GatewayHarness.difyKey, systemID: "probe",
                isAdminSet: true)
            let before = await gateway.fake.store.requestCount
            await #expect(throws: DifyError.self) { try await client.checkApp(at: target) }
            do {
                try await client.checkApp(at: target)
            } catch let error as DifyError {
                guard case .addressRefused(let reason) = error else { throw error }
                #expect(reason.contains("loopback"))
                #expect(!error.meansUpstreamDown)
            }
            #expect(await gateway.fake.store.requestCount == before, "the refused address was called")
            // The environment's own URLs are trusted as they are.
            let environment = DifyTarget(baseURL: target.baseURL, apiKey: GatewayHarness.difyKey, systemID: "x")
            try await client.checkApp(at: environment)
        }
    }

    @Test func theEnvironmentsKeyNeverGoesToAnAdminsHost() async throws {
        let own = try await FakeDifyServer.start(
            store: FakeDifyStore(options: FakeDifyOptions(apiKeys: [Self.longKey])))
        defer { Task { try? await own.shutdown() } }
        try await AdminAPITests.withAdmin { gateway in
            // A URL without a key of its own: refused when saved.
            let keyless = try await Self.create(gateway, ["system_id": "probe", "dify_base_url": own.baseURL])
            #expect(keyless.status == 409, "\(keyless.text)")
            let created = try await Self.create(
                gateway, ["system_id": "probe", "dify_base_url": own.baseURL, "dify_api_key": Self.longKey])
            #expect(created.status == 201)
            // Changing only the URL would send the sealed key to the new host: the key goes, so the change is refused.
            let moved = try await gateway.call(
                .PATCH, "/admin/v1/systems/probe", headers: Self.admin, json: ["dify_base_url": gateway.fake.baseURL])
            #expect(moved.status == 409, "\(moved.text)")
            #expect(
                try await gateway.call(.GET, "/admin/v1/systems/probe", headers: Self.admin).object["dify_base_url"]
                    as? String == own.baseURL)
            // With its new key, it moves.
            let movedWithKey = try await gateway.call(
                .PATCH, "/admin/v1/systems/probe", headers: Self.admin,
                json: ["dify_base_url": gateway.fake.baseURL, "dify_api_key": "app-moved-0123456789abcdef"])
            #expect(movedWithKey.status == 200)

            // A row stored before this rule, with a URL and no key: its chats are 503, and nothing is sent.
            var row = try #require(try await gateway.adminStore.systems().first { $0.systemID == "probe" })
            row.difyBaseURL = own.baseURL
            row.difyAPIKeySealed = nil
            row.difyAPIKeyHint = nil
            try await gateway.adminStore.save(
                row, audit: AuditEntry(at: Date(), actor: "test", action: "test", target: "probe", detail: ""))
            try await gateway.waitFor("the registry to read the keyless row", within: .seconds(45)) {
                let hint = try await gateway.call(.GET, "/admin/v1/systems/probe", headers: Self.admin)
                    .object["dify_api_key_hint"]
                return hint == nil || hint is NSNull
            }
            let before = await own.store.requestCount
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "probe", "user_id": "u1", "message": "hi"])
            #expect(chat.status == 503, "\(chat.text)")
            #expect(await own.store.requestCount == before)
        }
    }

    /// A loopback server that answers what an internal host might: a redirect, HTML, an array, an error page.
    static func withOddUpstream<T>(
        redirectTo location: String, _ body: (String) async throws -> T
    ) async throws -> T {
        let app = try await Application.make(.testing)
        app.get("redirect", "v1", "info") { _ in
            Response(status: .found, headers: ["Location": location + "/v1/info"])
        }
        app.get("html", "v1", "info") { _ in
            Response(status: .ok, headers: ["Content-Type": "text/html"], body: "<h1>internal secret page</h1>")
        }
        app.get("array", "v1", "parameters") { _ in
            Response(status: .ok, headers: ["Content-Type": "application/json"], body: #"["internal","secret"]"#)
        }
        app.get("failing", "v1", "info") { _ in
            Response(status: .internalServerError, body: "stack trace: internal secret")
        }
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let base = "http://127.0.0.1:\(app.http.server.shared.localAddress!.port!)"
        do {
            let result = try await body(base)
            await app.server.shutdown()
            try await app.asyncShutdown()
            return result
        } catch {
            await app.server.shutdown()
            try await app.asyncShutdown()
            throw error
        }
    }

    @Test func redirectsAreNotFollowedAndOnlyJSONObjectsAreRelayed() async throws {
        try await AdminAPITests.withAdmin { gateway in
            try await Self.withOddUpstream(redirectTo: gateway.fake.baseURL) { odd in
                for path in ["redirect", "html", "array"] {
                    let created = try await Self.create(
                        gateway,
                        ["system_id": "odd-\(path)", "dify_base_url": "\(odd)/\(path)", "dify_api_key": Self.longKey])
                    #expect(created.status == 201, "\(created.text)")
                }
                let before = await gateway.fake.store.requestCount
                for (system, endpoint) in [("odd-redirect", "info"), ("odd-html", "info"), ("odd-array", "parameters")]
                {
                    let reply = try await gateway.call(
                        .GET, "/dify/v1/\(endpoint)?user=u1",
                        headers: [("Authorization", "Bearer \(GatewayHarness.apiKey)"), ("X-Gateway-System", system)])
                    #expect(reply.status == 502, "\(system): \(reply.text)")
                    #expect(!reply.text.contains("secret") && !reply.text.contains("internal"), "\(reply.text)")
                }
                #expect(await gateway.fake.store.requestCount == before, "a redirect was followed")
            }
        }
    }

    @Test func theDifyCheckIsCoarseLimitedAndAudited() async throws {
        // A stopped clock: on a loaded machine the allowance must not refill between the checks.
        let stopped = Date()
        try await AdminAPITests.withAdmin(now: { stopped }) { gateway in
            try await Self.withOddUpstream(redirectTo: gateway.fake.baseURL) { odd in
                _ = try await Self.create(
                    gateway, ["system_id": "failing", "dify_base_url": "\(odd)/failing", "dify_api_key": Self.longKey])
                _ = try await Self.create(
                    gateway, ["system_id": "html", "dify_base_url": "\(odd)/html", "dify_api_key": Self.longKey])
                let failing = try await gateway.call(.POST, "/admin/v1/systems/failing/check", headers: Self.admin)
                #expect(failing.object["ok"] as? Bool == false && failing.object["reason"] as? String == "http_5xx")
                #expect(failing.object["status"] is NSNull)
                #expect(!failing.text.contains("secret") && !failing.text.contains("500"))
                let html = try await gateway.call(.POST, "/admin/v1/systems/html/check", headers: Self.admin)
                #expect(html.object["reason"] as? String == "not_dify")
                #expect(!html.text.contains("secret"))
                var limited: GatewayHarness.Reply?
                for _ in 0..<10 {
                    let reply = try await gateway.call(.POST, "/admin/v1/systems/html/check", headers: Self.admin)
                    if reply.status == 429 { limited = reply }
                }
                #expect(limited?.headers.first(name: "Retry-After") != nil)
                let audit = try await gateway.adminStore.audit(from: nil, to: nil, limit: 100, before: nil)
                let checks = audit.filter { $0.action == "system.dify_checked" }
                #expect(checks.count == 10)
                #expect(checks.contains { $0.detail.contains("host: 127.0.0.1") && $0.detail.contains("http_5xx") })
            }
        }
    }

    @Test func aURLChangeIsAuditedWithBothHostsAndWildcardOriginsAreRefused() async throws {
        try await AdminAPITests.withAdmin { gateway in
            _ = try await Self.create(
                gateway, ["system_id": "moving", "dify_base_url": gateway.fake.baseURL, "dify_api_key": Self.longKey])
            let moved = try await gateway.call(
                .PATCH, "/admin/v1/systems/moving", headers: Self.admin,
                json: ["dify_base_url": "http://localhost:9/", "dify_api_key": Self.longKey])
            #expect(moved.status == 200, "\(moved.text)")
            let audit = try await gateway.adminStore.audit(from: nil, to: nil, limit: 100, before: nil)
            #expect(
                audit.contains {
                    $0.action == "system.changed" && $0.detail.contains("dify host: 127.0.0.1 → localhost")
                })
            let wildcard = try await gateway.call(
                .PATCH, "/admin/v1/systems/moving", headers: Self.admin,
                json: ["allowed_origins": ["https://*.example.com"]])
            #expect(wildcard.status == 422)
            let star = try await gateway.call(
                .PATCH, "/admin/v1/systems/moving", headers: Self.admin, json: ["allowed_origins": ["*"]])
            #expect(star.status == 422)
        }
    }
}
