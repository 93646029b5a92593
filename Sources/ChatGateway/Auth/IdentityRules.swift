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

    public static func difyUser(systemID: String, userID: String) -> String { "\(systemID)_\(userID)" }

    /// The longest user id that still fits Dify's `user` limit for this system.
    public static func maxUserIDLength(systemID: String) -> Int { difyUserLimit - systemID.count - 1 }

    /// Checks both ids; throws a 422 naming the rule that failed.
    public static func validate(systemID: String, userID: String) throws(AuthError) {
        guard isValidSystemID(systemID) else {
            throw .invalidIdentity(
                "system_id must match ^[a-z0-9][a-z0-9-]{0,63}$ (lower-case letters, digits and '-'; no '_')")
        }
        guard !userID.isEmpty else { throw .invalidIdentity("user_id must not be empty") }
        guard !userID.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidIdentity("user_id must not contain control characters")
        }
        let limit = maxUserIDLength(systemID: systemID)
        guard userID.count <= limit else {
            throw .invalidIdentity(
                "user_id is too long: \"{system_id}_{user_id}\" must fit Dify's \(difyUserLimit)-character user limit, so at most \(limit) characters for system_id \"\(systemID)\""
            )
        }
    }
}
