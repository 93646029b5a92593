import Foundation
import NIOCore
import Testing
import Vapor

@testable import ChatGateway

/// A public browser key cannot buy unlimited Dify spend: minting chat tokens is limited per key and per client
/// address, and the chats made with minted tokens count against the key that minted them.
@Suite("Token issuance limits", .hangLimit)
struct TokenIssuanceLimitTests {
    static let browserKey = "browser-key-issuance-01"
    static let otherKey = "server-key-issuance-02"
    static let anonymous = "/v1/chat-token?system_id=drillquiz&user_id=anonymous"

    @Test func theDefaultIs60PerMinute() throws {
        let settings = try Settings.parse(environment: [:], isProduction: false)
        #expect(settings.rateLimitTokenIssuance == RateLimit(count: 60, period: 60))
        #expect(settings.trustedProxies.isEmpty)
        let off = try Settings.parse(environment: ["RATE_LIMIT_TOKEN_ISSUANCE": "off"], isProduction: false)
        #expect(off.rateLimitTokenIssuance == nil)
        #expect(throws: SettingsError.self) {
            try Settings.parse(environment: ["TRUSTED_PROXIES": "10.0.0.0/33"], isProduction: false)
        }
    }

    // Allowances are per hour here: a bucket refills continuously, and per minute a loaded machine's pauses between
    // requests could give a token back.
    @Test func aKeyMintsOnlyItsAllowanceThen429() async throws {
        try await GatewayHarness.with(adjust: {
            $0.browserKeys = [APIKeyEntry(key: Self.browserKey)]
            $0.rateLimitTokenIssuance = RateLimit(count: 3, period: 3600)
        }) { gateway in
            var visitors: Set<String> = []
            for _ in 0..<3 {
                let reply = try await gateway.call(.GET, Self.anonymous, headers: [("X-API-Key", Self.browserKey)])
                #expect(reply.status == 200)
                visitors.insert(try #require(reply.object["user_id"] as? String))
            }
            #expect(visitors.count == 3)
            let refused = try await gateway.call(.GET, Self.anonymous, headers: [("X-API-Key", Self.browserKey)])
            #expect(refused.status == 429)
            #expect(Int(refused.headers.first(name: "Retry-After") ?? "") ?? 0 >= 1)
        }
    }

    @Test func oneAddressIsLimitedAcrossKeysAndForwardedForCountsOnlyFromTrustedProxies() async throws {
        try await GatewayHarness.with(adjust: {
            $0.apiKeys.append(APIKeyEntry(key: Self.otherKey))
            $0.rateLimitTokenIssuance = RateLimit(count: 2, period: 3600)
        }) { gateway in
            let path = "/v1/chat-token?system_id=drillquiz&user_id=u1"
            #expect(try await gateway.call(.GET, path, headers: GatewayHarness.keyHeader).status == 200)
            #expect(try await gateway.call(.GET, path, headers: GatewayHarness.keyHeader).status == 200)
            // Another key from the same address: the address's allowance is spent, whatever X-Forwarded-For says.
            let spoofed = try await gateway.call(
                .GET, path, headers: [("X-API-Key", Self.otherKey), ("X-Forwarded-For", "203.0.113.9")])
            #expect(spoofed.status == 429)
            #expect(spoofed.detail?.contains("client address") == true, "\(spoofed.text)")
        }
    }

    @Test func theClientAddressComesFromTrustedProxiesOnly() async throws {
        let app = try await Application.make(.testing)
        defer { Task { try? await app.asyncShutdown() } }
        func request(peer: String, forwarded: [String]) throws -> Request {
            var headers = HTTPHeaders()
            for hop in forwarded { headers.add(name: "X-Forwarded-For", value: hop) }
            return Request(
                application: app, method: .GET, url: "/", headers: headers,
                remoteAddress: try SocketAddress(ipAddress: peer, port: 1234), on: app.eventLoopGroup.any())
        }
        let none = ClientAddress(trustedProxies: [])
        let proxies = ClientAddress(trustedProxies: [IPAddressRange("10.0.0.0/8")!, IPAddressRange("::1")!])
        #expect(none.of(try request(peer: "10.1.2.3", forwarded: ["198.51.100.7"])) == "10.1.2.3")
        #expect(proxies.of(try request(peer: "10.1.2.3", forwarded: ["198.51.100.7"])) == "198.51.100.7")
        // The client may write anything further left; the nearest untrusted hop is who reached our proxies.
        #expect(
            proxies.of(try request(peer: "10.1.2.3", forwarded: ["1.1.1.1, 198.51.100.7, 10.9.9.9"])) == "198.51.100.7")
        #expect(proxies.of(try request(peer: "::1", forwarded: ["2001:db8::5"])) == "2001:db8::5")
        #expect(proxies.of(try request(peer: "192.0.2.1", forwarded: ["198.51.100.7"])) == "192.0.2.1")
        #expect(IPAddressRange("fd00::/8")?.contains("fd12::1") == true)
        #expect(IPAddressRange("127.0.0.1")?.contains("127.0.0.2") == false)
        #expect(IPAddressRange("nonsense") == nil)
    }

    @Test func chatsWithMintedTokensCountAgainstTheMintingKey() async throws {
        try await GatewayHarness.with(adjust: {
            $0.browserKeys = [APIKeyEntry(key: Self.browserKey)]
            $0.rateLimitPerKey = RateLimit(count: 2, period: 3600)
        }) { gateway in
            var statuses: [Int] = []
            for _ in 0..<3 {
                let minted = try await gateway.call(.GET, Self.anonymous, headers: [("X-API-Key", Self.browserKey)])
                let token = try #require(minted.object["token"] as? String)
                let chat = try await gateway.call(
                    .POST, "/v1/chat", headers: [("Authorization", "Bearer \(token)")], json: ["message": "hi"])
                statuses.append(chat.status)
            }
            // Three fresh visitors, three fresh per-user buckets, but one key: its third chat is refused.
            #expect(statuses == [200, 200, 429])
            // A token a client backend minted itself names no key and is limited per user only.
            let own = try await gateway.token(system: "drillquiz", user: "u9")
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: [("Authorization", "Bearer \(own)")], json: ["message": "hi"])
            #expect(chat.status == 200)
        }
    }
}
