import Testing

@testable import ChatGateway

@Suite("IdentityRules", .hangLimit)
struct IdentityRulesTests {
    @Test(arguments: ["drillquiz", "coin-tutor", "a", "0abc", String(repeating: "a", count: 64)])
    func validSystemIDs(_ id: String) { #expect(IdentityRules.isValidSystemID(id)) }

    @Test(arguments: ["", "Drill", "drill_quiz", "-a", "a b", "ü", String(repeating: "a", count: 65)])
    func invalidSystemIDs(_ id: String) { #expect(!IdentityRules.isValidSystemID(id)) }

    /// The seed mapped `a_b`+`c` and `a`+`b_c` to the same Dify user; with `_` banned in system ids they cannot both exist.
    @Test func difyUsersCannotCollide() throws {
        #expect(throws: AuthError.self) { try IdentityRules.validate(systemID: "a_b", userID: "c") }
        try IdentityRules.validate(systemID: "a", userID: "b_c")
        #expect(IdentityRules.difyUser(systemID: "a", userID: "b_c") == "a_b_c")
    }

    @Test func userIDMustFitDifysLimit() throws {
        try IdentityRules.validate(systemID: "abc", userID: String(repeating: "x", count: 251))
        do {
            try IdentityRules.validate(systemID: "abc", userID: String(repeating: "x", count: 252))
            Issue.record("expected a length error")
        } catch {
            guard case .invalidIdentity(let reason) = error else { Issue.record("wrong error \(error)"); return }
            #expect(reason.contains("255"))
        }
    }

    @Test func controlCharactersAreRefused() {
        #expect(throws: AuthError.self) { try IdentityRules.validate(systemID: "a", userID: "x\ny") }
        #expect(throws: AuthError.self) { try IdentityRules.validate(systemID: "a", userID: "x\u{7F}") }
    }

    @Test func keysCompareExactly() {
        let verifier = APIKeyVerifier(keys: ["alpha", "beta"])
        #expect(verifier.isValid("alpha"))
        #expect(verifier.isValid("beta"))
        #expect(!verifier.isValid("alph"))
        #expect(!verifier.isValid("alphaa"))
        #expect(!verifier.isValid(""))
        #expect(!APIKeyVerifier(keys: []).isValid(""))
    }

    @Test func userIDsAreCanonicalNFCWithoutInvisibles() throws {
        #expect(try IdentityRules.validate(systemID: "a", userID: "jose\u{301}") == "jos\u{E9}")
        #expect(Array(try IdentityRules.validate(systemID: "a", userID: "jos\u{E9}").utf8) == Array("jos\u{E9}".utf8))
        for bad in ["a\u{202E}b", "a\u{200D}b", "a\u{2028}", "a\u{2029}", " \t", "\u{3000}"] {
            #expect(throws: AuthError.self) { try IdentityRules.validate(systemID: "a", userID: bad) }
        }
        // Owners are the same bytes, not merely canonically equal strings.
        #expect(!IdentityRules.sameOwner(("a", "jose\u{301}"), ("a", "jos\u{E9}")))
        #expect(IdentityRules.sameOwner(("a", "jos\u{E9}"), ("a", "jos\u{E9}")))
    }

    /// A length difference of 256·k once folded to zero: the key followed by 256 NUL bytes matched.
    @Test func keysFollowedByNULsOrControlsNeverMatch() {
        let verifier = APIKeyVerifier(keys: ["alpha", "0123456789abc"])
        for count in [1, 256, 512] {
            #expect(!verifier.isValid("alpha" + String(repeating: "\u{0}", count: count)))
            #expect(!verifier.isValid("0123456789abc" + String(repeating: "\u{0}", count: count)))
        }
        #expect(!verifier.isValid("alpha\u{7}"))
        #expect(!verifier.isValid("\u{0}alpha"))
        #expect(
            !APIKeyVerifier.constantTimeEquals(Array("ab".utf8), Array("ab".utf8) + [UInt8](repeating: 0, count: 256)))
    }

    @Test func originPolicy() {
        let policy = OriginPolicy(allowedOrigins: ["http://localhost:8080"])
        #expect(policy.permits(originHeader: "http://localhost:8080", refererHeader: nil))
        #expect(!policy.permits(originHeader: "http://evil.example", refererHeader: nil))
        #expect(policy.permits(originHeader: nil, refererHeader: "http://localhost:8080/page?x=1"))
        #expect(!policy.permits(originHeader: nil, refererHeader: "https://evil.example/"))
        #expect(policy.permits(originHeader: nil, refererHeader: nil))
        #expect(OriginPolicy(allowedOrigins: []).permits(originHeader: "http://any", refererHeader: nil))
    }
}
