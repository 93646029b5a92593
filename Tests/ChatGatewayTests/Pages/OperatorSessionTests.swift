import Crypto
import Fluent
import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// The operators' session cookie rests on a key only the gateway holds, lives at most 8 h, and ends for every
/// copy on sign-out; the seed's `?api_key=` link signs nobody in from another site.
@Suite("Operator sessions", .hangLimit)
struct OperatorSessionTests {
    typealias Page = HistoryPageEndpointTests
    static let encryptionKey = "operator-test-encryption-key-0123456789abcdef"

    static func cookieHeader(_ value: String) -> (String, String) { ("Cookie", "cg_operator=\(value)") }

    /// What each operator route answers to a cookie: the page shows it signed in, the API answers 200.
    static func opens(_ gateway: GatewayHarness, _ value: String) async throws -> [Bool] {
        let cookie = cookieHeader(value)
        let page = try await Page.call(gateway, .GET, "/cache", headers: [cookie])
        let listing = try await Page.call(gateway, .GET, "/v1/cache/conversations", headers: [cookie])
        let export = try await Page.call(gateway, .GET, "/v1/cache/export", headers: [cookie])
        let sync = try await Page.call(gateway, .POST, "/v1/sync", headers: [cookie, ("X-Requested-With", "fetch")])
        return [
            page.text.contains("signin-card") == false, listing.status == 200, export.status == 200, sync.status == 200,
        ]
    }

    static func mac(_ payload: String, key: SymmetricKey) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key).lowercaseHex
    }

    @Test func aCookieForgedWithTheJWTSecretOpensNothing() async throws {
        try await GatewayHarness.with { gateway in
            let real = try #require(Page.sessionCookie(try await Page.signIn(gateway))?.value)
            #expect(try await Self.opens(gateway, real) == [true, true, true, true])
            // What a client backend, which holds CHAT_GATEWAY_JWT_SECRET, could sign: the old format and the new one.
            let jwtKey = SymmetricKey(
                data: SHA256.hash(data: Data(("operator-session:" + GatewayHarness.jwtSecret).utf8)))
            let fingerprint = OperatorSessions.fingerprint(GatewayHarness.apiKey)
            let old = "253402300799.\(fingerprint)"
            let sessionID = String(real.split(separator: ".")[0])
            let derivedFromJWT = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: Data(GatewayHarness.jwtSecret.utf8)),
                info: OperatorSigningKey.label,
                outputByteCount: 32)
            let forged = "\(sessionID).\(Int(Date().timeIntervalSince1970) + 3600)"
            for cookie in [
                old + "." + Self.mac(old, key: jwtKey), forged + "." + Self.mac(forged, key: derivedFromJWT),
                forged + "." + Self.mac(forged, key: jwtKey),
            ] {
                #expect(try await Self.opens(gateway, cookie) == [false, false, false, false], "\(cookie)")
            }
        }
    }

    @Test func anExpiryBeyondEightHoursIsRefusedEvenWhenSignedWithTheRealKey() async throws {
        try await GatewayHarness.with(adjust: { $0.encryptionKey = Self.encryptionKey }) { gateway in
            let before = Int(Date().timeIntervalSince1970)
            let real = try #require(Page.sessionCookie(try await Page.signIn(gateway))?.value)
            let after = Int(Date().timeIntervalSince1970)
            let parts = real.split(separator: ".").map(String.init)
            let issuedExpiry = try #require(Int(parts[1]))
            // Bracketed by the clock around the sign-in, however long a loaded machine takes over it.
            #expect((before + 8 * 3600 - 1...after + 8 * 3600 + 1).contains(issuedExpiry))
            let key = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: Data(Self.encryptionKey.utf8)), info: OperatorSigningKey.label,
                outputByteCount: 32)
            // The test derives the same key, so the real cookie's MAC is reproduced exactly.
            #expect(Self.mac(parts[0] + "." + parts[1], key: key) == parts[2])
            for expiry in ["253402300799", String(Int64.max), String(issuedExpiry + 3600)] {
                let payload = parts[0] + "." + expiry
                #expect(
                    try await Self.opens(gateway, payload + "." + Self.mac(payload, key: key))
                        == [false, false, false, false], "expiry \(expiry)")
            }
            #expect(try await Self.opens(gateway, real) == [true, true, true, true])
        }
    }

    @Test func signingOutEndsEveryCopyOfTheCookie() async throws {
        try await GatewayHarness.with { gateway in
            let cookie = try #require(Page.sessionCookie(try await Page.signIn(gateway))?.value)
            let other = try #require(Page.sessionCookie(try await Page.signIn(gateway))?.value)
            let out = try await Page.call(gateway, .POST, "/cache/logout", headers: [Self.cookieHeader(cookie)])
            #expect(out.status == 303)
            // A copy kept elsewhere (another port of the same host name receives the cookie too) is dead as well.
            #expect(try await Self.opens(gateway, cookie) == [false, false, false, false])
            #expect(try await Self.opens(gateway, other) == [true, true, true, true])
        }
    }

    @Test func withoutAnEncryptionKeyTheKeyIsKeptInTheDatabaseForEveryReplica() async throws {
        try await GatewayHarness.with { gateway in
            let database: @Sendable () -> any Database = { gateway.app.db }
            let first = try await OperatorSigningKey(.database(GatewaySecrets(database: database))).key()
            let second = try await OperatorSigningKey(.database(GatewaySecrets(database: database))).key()
            #expect(first == second)
            let stored = try await GatewaySecrets(database: database).secret(named: OperatorSigningKey.secretName)
            #expect(stored.count == 64 && stored != GatewayHarness.jwtSecret)
            let fromEnvironment = try await OperatorSigningKey(.encryptionKey(Self.encryptionKey)).key()
            #expect(fromEnvironment != first)
        }
    }

    @Test func theSeedsLinkFollowedFromAnotherSiteSignsNobodyIn() async throws {
        try await GatewayHarness.with { gateway in
            let link = "/cache?lang=ko&api_key=\(GatewayHarness.apiKey)"
            for site in ["cross-site", "same-site"] {
                let reply = try await Page.call(gateway, .GET, link, headers: [("Sec-Fetch-Site", site)])
                #expect(reply.status == 303)
                #expect(reply.headers.first(name: .location) == "/cache?lang=ko")
                #expect(Page.sessionCookie(reply) == nil)
            }
            for headers in [[("Sec-Fetch-Site", "none")], [("Sec-Fetch-Site", "same-origin")], []] {
                let reply = try await Page.call(gateway, .GET, link, headers: headers)
                #expect(reply.status == 303)
                #expect(Page.sessionCookie(reply)?.value.isEmpty == false, "\(headers)")
            }
        }
    }
}
