import Foundation
import JWTKit
import Testing

@testable import ChatGateway

@Suite("ChatTokenService", .hangLimit)
struct ChatTokenServiceTests {
    let secret = "unit-secret"

    @Test func roundTrip() async throws {
        let service = await ChatTokenService(secret: secret)
        let token = try await service.issue(systemID: "cointutor", userID: "999")
        #expect(try await service.verify(token) == TokenIdentity(systemID: "cointutor", userID: "999"))
    }

    @Test func expiresAfterItsLifetime() async throws {
        let issued = Date()
        let issuer = await ChatTokenService(secret: secret, now: { issued })
        let token = try await issuer.issue(systemID: "a", userID: "b", lifetime: 60)
        let later = await ChatTokenService(
            secret: secret, now: { issued.addingTimeInterval(61 + ChatTokenPolicy.defaultLeeway) })
        await #expect(throws: AuthError.invalidToken("Token expired")) { try await later.verify(token) }
    }

    @Test func refusesOtherAlgorithmsAndForgeries() async throws {
        let service = await ChatTokenService(secret: secret)
        let claims: [String: Any] = ["system_id": "a", "user_id": "b", "exp": Date().timeIntervalSince1970 + 600]
        await #expect(throws: AuthError.invalidToken("Unsupported token algorithm \"none\": only HS256 is accepted")) {
            try await service.verify(TestTokens.unsigned(claims))
        }
        await #expect(throws: AuthError.invalidToken("Unsupported token algorithm \"HS512\": only HS256 is accepted")) {
            try await service.verify(TestTokens.withAlgorithm("HS512", claims))
        }
        await #expect(throws: AuthError.invalidToken("Invalid token signature")) {
            try await service.verify(TestTokens.withAlgorithm("HS256", claims))
        }
        await #expect(throws: AuthError.invalidToken("Malformed token")) { try await service.verify("not.a-token") }
    }

    @Test func requiresExpAndIdentity() async throws {
        let service = await ChatTokenService(secret: secret)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: ChatTokenService.keyBytes(secret)), digestAlgorithm: .sha256)
        let noExp = try await keys.sign(ChatTokenClaims(systemID: "a", userID: "b", expires: Date()).without(\.exp))
        await #expect(throws: AuthError.invalidToken("Token must contain exp")) { try await service.verify(noExp) }
        let noUser = try await keys.sign(
            ChatTokenClaims(systemID: "a", userID: "b", expires: Date() + 600).without(\.userID))
        await #expect(throws: AuthError.invalidToken("token must contain system_id and user_id")) {
            try await service.verify(noUser)
        }
    }

    @Test func acceptsNumericUserIDs() async throws {
        struct NumericClaims: JWTPayload {
            var system_id = "cointutor"
            var user_id = 999
            var exp = ExpirationClaim(value: Date() + 600)
            func verify(using algorithm: some JWTAlgorithm) async throws {}
        }
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: ChatTokenService.keyBytes(secret)), digestAlgorithm: .sha256)
        let token = try await keys.sign(NumericClaims())
        #expect(try await ChatTokenService(secret: secret).verify(token).userID == "999")
    }
}

extension ChatTokenClaims {
    func without<Value>(_ field: WritableKeyPath<ChatTokenClaims, Value?>) -> ChatTokenClaims {
        var copy = self
        copy[keyPath: field] = nil
        return copy
    }
}

@Suite("Short secrets", .hangLimit)
struct ShortSecretTests {
    /// A token signed elsewhere (PyJWT, the seed) with a short secret must verify here: HS256 over "s3cret".
    @Test func matchesPlainHMACWithAShortSecret() async throws {
        // Signed outside Swift (Python hmac/hashlib, as PyJWT does): jwt.encode({"system_id":"a","user_id":"b","exp":4102444800}, "s3cret", "HS256")
        let token =
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzeXN0ZW1faWQiOiJhIiwidXNlcl9pZCI6ImIiLCJleHAiOjQxMDI0NDQ4MDB9"
            + ".QwqUx9SPRb4GNh8YYOfE8VR0VRICuU6nRp0vbjriFeE"
        #expect(try await ChatTokenService(secret: "s3cret").verify(token) == TokenIdentity(systemID: "a", userID: "b"))
    }
}
