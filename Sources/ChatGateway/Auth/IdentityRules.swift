import Foundation

/// The rules a (system_id, user_id) pair must follow before it reaches Dify.
///
/// Dify's `user` is `{system_id}_{user_id}`; forbidding `_` in system ids makes that mapping
/// one-to-one (the seed let `a_b`+`c` collide with `a`+`b_c`), and the length rule keeps it
/// inside Dify's varchar(255), beyond which Dify answers 500.
public enum IdentityRules {
    public static let difyUserLimit = 255

    public static func isValidSystemID(_ id: String) -> Bool {
        let scalars = Array(id.unicodeScalars)
        guard (1...64).contains(scalars.count) else { return false }
        func allowed(_ s: Unicode.Scalar, dash: Bool) -> Bool {
            ("a"..."z").contains(s) || ("0"..."9").contains(s) || (dash && s == "-")
        }
        return allowed(scalars[0], dash: false) && scalars.dropFirst().allSatisfy { allowed($0, dash: true) }
    }

    /// What `isValidSystemID` asks, as the 422 says it.
    static let systemIDRule =
        "system_id must match ^[a-z0-9][a-z0-9-]{0,63}$ (lower-case letters, digits and '-'; no '_')"

    public static func difyUser(systemID: String, userID: String) -> String { "\(systemID)_\(userID)" }

    /// The longest user id that still fits Dify's `user` limit for this system.
    public static func maxUserIDLength(systemID: String) -> Int { difyUserLimit - systemID.count - 1 }

    /// Checks both ids and returns the user id in its one canonical form (NFC), which is what is stored, compared
    /// and sent to Dify; throws a 422 naming the rule that failed. `jose\u{301}` and `jos\u{E9}` are one user,
    /// not two that the gateway and Dify would tell apart differently.
    @discardableResult
    public static func validate(systemID: String, userID: String) throws(AuthError) -> String {
        guard isValidSystemID(systemID) else { throw .invalidIdentity(systemIDRule) }
        let canonical = userID.precomposedStringWithCanonicalMapping
        guard !canonical.isEmpty else { throw .invalidIdentity("user_id must not be empty") }
        guard !canonical.allSatisfy(\.isWhitespace) else {
            throw .invalidIdentity("user_id must not be only whitespace")
        }
        guard !canonical.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidIdentity("user_id must not contain control characters")
        }
        guard !canonical.unicodeScalars.contains(where: isInvisible) else {
            throw .invalidIdentity(
                "user_id must not contain format or invisible characters (bidi controls, zero-width characters, line or paragraph separators)"
            )
        }
        let limit = maxUserIDLength(systemID: systemID)
        // Dify's column counts code points, not what a reader sees as characters.
        guard canonical.unicodeScalars.count <= limit else {
            throw .invalidIdentity(
                "user_id is too long: \"{system_id}_{user_id}\" must fit Dify's \(difyUserLimit)-character user limit, so at most \(limit) characters for system_id \"\(systemID)\""
            )
        }
        return canonical
    }

    /// Unicode Cf (bidi overrides, zero-width joiners and spaces, the BOM), Zl and Zp.
    static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }

    /// Two owners are the same only when their ids are the same bytes: Swift's `==` on strings would also call
    /// canonically equivalent spellings equal.
    static func sameOwner(_ a: (systemID: String, userID: String), _ b: (systemID: String, userID: String)) -> Bool {
        a.systemID.utf8.elementsEqual(b.systemID.utf8) && a.userID.utf8.elementsEqual(b.userID.utf8)
    }
}
