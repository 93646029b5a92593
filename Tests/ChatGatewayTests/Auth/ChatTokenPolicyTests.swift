import Foundation
import JWTKit
import Testing

@testable import ChatGateway

/// The optional token rules: audience, issuer, maximum lifetime, leeway and key rotation.
@Suite("Chat token policy", .hangLimit)
struct ChatTokenPolicyTests {
    let secret = "current-secret"
    let issued = Date(timeIntervalSince1970: 1_800_000_000)

    /// Signs claims as a client backend would, with any secret.
    func sign(_ claims: ChatTokenClaims, secret: String? = nil) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: ChatTokenService.keyBytes(secret ?? self.secret)), digestAlgorithm: .sha256)
        return try await keys.sign(claims)
    }

    func service(
        _ policy: ChatTokenPolicy = .init(), previousSecret: String? = nil, at offset: TimeInterval = 0
    ) async -> ChatTokenService {
        let now = issued.addingTimeInterval(offset)
        return await ChatTokenService(secret: secret, previousSecret: previousSecret, policy: policy, now: { now })
    }

    func claims(
        lifetime: TimeInterval = 600, iat: Bool = true, issuer: String? = nil, audience: String? = nil
    ) -> ChatTokenClaims {
        ChatTokenClaims(
            systemID: "a", userID: "b", expires: issued.addingTimeInterval(lifetime),
            issuedAt: iat ? issued : nil, issuer: issuer, audience: audience)
    }

    /// `aud` and `iss` follow the same rule: when configured, a token without the value or with another is refused.
    @Test(arguments: ["aud", "iss"])
    func wrongOrMissingAudienceOrIssuerIsRefused(claim: String) async throws {
        let isAudience = claim == "aud"
        let gateway = await service(
            isAudience ? ChatTokenPolicy(audience: "chat-gateway") : ChatTokenPolicy(issuer: "chat-gateway"))
        let refusal = AuthError.invalidToken(isAudience ? "Invalid token audience" : "Invalid token issuer")
        func carrying(_ value: String) -> ChatTokenClaims {
            isAudience ? claims(audience: value) : claims(issuer: value)
        }
        await #expect(throws: refusal) { try await gateway.verify(sign(carrying("another-service"))) }
        await #expect(throws: refusal) { try await gateway.verify(sign(claims())) }
        #expect(try await gateway.verify(sign(carrying("chat-gateway"))).userID == "b")
    }

    @Test func overLongLifetimeIsRefused() async throws {
        let gateway = await service(ChatTokenPolicy(maxLifetime: 3600))
        let refusal = AuthError.invalidToken("Token lifetime exceeds the maximum of 3600 seconds")
        await #expect(throws: refusal) { try await gateway.verify(sign(claims(lifetime: 3601))) }
        // Without iat the lifetime left counts: exp − now.
        await #expect(throws: refusal) { try await gateway.verify(sign(claims(lifetime: 7200, iat: false))) }
        #expect(try await gateway.verify(sign(claims(lifetime: 3600))).userID == "b")
        #expect(try await gateway.verify(sign(claims(lifetime: 3600, iat: false))).userID == "b")
    }

    @Test func theGatewaysOwnTokensPassItsOwnChecks() async throws {
        let policy = ChatTokenPolicy(audience: "chat", issuer: "gateway", maxLifetime: ChatTokenService.defaultLifetime)
        let gateway = await service(policy)
        let token = try await gateway.issue(systemID: "a", userID: "b")
        #expect(try await gateway.verify(token) == TokenIdentity(systemID: "a", userID: "b"))
        let minted = try await JWTKeyCollection().unverified(token, as: ChatTokenClaims.self)
        #expect(minted.aud?.value == ["chat"])
        #expect(minted.iss?.value == "gateway")
        #expect(minted.iat?.value == issued)
    }

    @Test func previousSecretVerifiesButNeverSigns() async throws {
        let rotating = await service(previousSecret: "old-secret")
        let oldToken = try await sign(claims(), secret: "old-secret")
        #expect(try await rotating.verify(oldToken).userID == "b")
        // A token of a secret rotated out entirely (neither current nor previous) is a bad signature.
        await #expect(throws: AuthError.invalidToken("Invalid token signature")) {
            try await rotating.verify(sign(claims(), secret: "retired-secret"))
        }
        let minted = try await rotating.issue(systemID: "a", userID: "b")
        await #expect(throws: AuthError.invalidToken("Invalid token signature")) {
            try await ChatTokenService(secret: "old-secret", now: { issued }).verify(minted)
        }
        #expect(try await service().verify(minted).userID == "b")
    }

    @Test func leewayAppliesAtTheBoundaries() async throws {
        let expiring = try await sign(claims(lifetime: 60))
        #expect(try await service(at: 60 + 29).verify(expiring).userID == "b")
        await #expect(throws: AuthError.invalidToken("Token expired")) {
            try await service(at: 60 + 30).verify(expiring)
        }
        await #expect(throws: AuthError.invalidToken("Token expired")) {
            try await service(ChatTokenPolicy(leeway: 0), at: 60).verify(expiring)
        }

        var early = claims()
        early.nbf = NotBeforeClaim(value: issued.addingTimeInterval(30))
        #expect(try await service().verify(sign(early)).userID == "b")
        await #expect(throws: AuthError.invalidToken("Token not yet valid")) {
            try await service(ChatTokenPolicy(leeway: 29)).verify(sign(early))
        }
        var future = claims()
        future.iat = IssuedAtClaim(value: issued.addingTimeInterval(31))
        await #expect(throws: AuthError.invalidToken("Token issued in the future")) {
            try await service().verify(sign(future))
        }
    }
}
