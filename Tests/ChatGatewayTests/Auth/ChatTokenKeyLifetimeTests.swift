import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import ChatGateway

/// Chat tokens minted by a data key end with it: the probe's tokens outlived their key's revocation by up to 24 h.
@Suite("Chat tokens of data keys", .hangLimit)
struct ChatTokenKeyLifetimeTests {
    typealias A = AdminAPITests

    static func mint(_ gateway: GatewayHarness, key: String) async throws -> String {
        let minted = try await gateway.call(
            .GET, "/v1/chat-token?system_id=drillquiz&user_id=u1", headers: [("X-API-Key", key)])
        #expect(minted.status == 200, "\(minted.text)")
        return try #require(minted.object["token"] as? String)
    }

    static func chat(_ gateway: GatewayHarness, token: String) async throws -> GatewayHarness.Reply {
        try await gateway.call(
            .POST, "/v1/chat", headers: [("Authorization", "Bearer \(token)")], json: ["message": "hi"])
    }

    @Test func aRevokedKeysTokensAreRefused() async throws {
        try await A.withAdmin { gateway in
            let created = try await gateway.call(
                .POST, "/admin/v1/keys", headers: A.admin,
                json: ["name": "quiz", "systems": ["drillquiz"], "kind": "server"])
            let key = try #require(created.object["key"] as? String)
            let id = try #require(created.object["id"] as? String)
            let token = try await Self.mint(gateway, key: key)
            #expect(try await Self.chat(gateway, token: token).status == 200)
            #expect(try await gateway.call(.DELETE, "/admin/v1/keys/\(id)", headers: A.admin).status == 204)
            let refused = try await Self.chat(gateway, token: token)
            #expect(refused.status == 401)
            #expect(refused.detail == "The key that issued this token was revoked or has expired")
            // The chat page refuses it too, as it refuses any token that is no longer valid.
            #expect(try await gateway.call(.GET, "/chat?token=\(token)").status == 401)
            // Tokens of the environment's keys are not affected.
            #expect(try await Self.chat(gateway, token: try await gateway.token()).status == 200)
        }
    }

    @Test func aTokenExpiresNoLaterThanItsKey() async throws {
        let clock = NIOLockedValueBox(Date())
        try await A.withAdmin(now: { clock.withLockedValue { $0 } }) { gateway in
            let expires = clock.withLockedValue { $0 }.addingTimeInterval(3600)
            let created = try await gateway.call(
                .POST, "/admin/v1/keys", headers: A.admin,
                json: [
                    "name": "brief", "systems": [], "kind": "server",
                    "expires_at": ISO8601DateFormatter().string(from: expires),
                ])
            let key = try #require(created.object["key"] as? String)
            let token = try await Self.mint(gateway, key: key)
            let payload = try #require(Data(base64URLEncoded: String(token.split(separator: ".")[1])))
            let claims = try #require(try JSONSerialization.jsonObject(with: payload) as? [String: Any])
            let exp = try #require(claims["exp"] as? Double)
            #expect(abs(exp - expires.timeIntervalSince1970) < 1.5, "exp \(exp), the key's \(expires)")
            #expect(try await Self.chat(gateway, token: token).status == 200)
            clock.withLockedValue { $0 = $0.addingTimeInterval(1800) }
            #expect(try await Self.chat(gateway, token: token).status == 200)
            // Past the key's expiry the token is refused with it.
            clock.withLockedValue { $0 = $0.addingTimeInterval(1900) }
            #expect(try await Self.chat(gateway, token: token).status == 401)
        }
    }
}
