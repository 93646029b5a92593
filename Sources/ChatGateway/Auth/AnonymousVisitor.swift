/// Logged-out visitors. Client systems such as DrillQuiz send every one of them as the user `anonymous`, which
/// would give them all one shared history; the gateway instead mints each a token for an id of their own,
/// `anonymous-<26 base32 characters>` (130 random bits), which the widget keeps and presents to renew it.
enum AnonymousVisitor {
    static let sharedUserID = "anonymous"
    static let prefix = "anonymous-"
    static let idLength = 26
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".unicodeScalars)

    /// The user a token request is really for: a fresh visitor id for `anonymous`, the same id for a
    /// well-formed visitor id (a returning visitor), nil for an ordinary user id.
    static func resolve(_ userID: String) throws(AuthError) -> String? {
        if userID == sharedUserID { return newID() }
        guard userID.hasPrefix(prefix) else { return nil }
        guard isVisitorID(userID) else {
            throw .invalidIdentity(
                "user_id \"anonymous-…\" must be a visitor id this gateway issued: anonymous- followed by \(idLength) characters a-z and 2-7; send user_id=anonymous for a new one"
            )
        }
        return userID
    }

    static func isVisitorID(_ userID: String) -> Bool {
        guard userID.hasPrefix(prefix) else { return false }
        let rest = Array(userID.unicodeScalars.dropFirst(prefix.count))
        return rest.count == idLength && rest.allSatisfy(alphabet.contains)
    }

    static func newID() -> String {
        var generator = SystemRandomNumberGenerator()
        return prefix
            + String(
                String.UnicodeScalarView(
                    (0..<idLength).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }))
    }
}
