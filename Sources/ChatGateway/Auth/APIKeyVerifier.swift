/// Checks `X-API-Key` against a list of keys (`CHAT_GATEWAY_API_KEY`, or `CHAT_GATEWAY_BROWSER_KEY`) and
/// tells which systems the presented key serves.
///
/// An empty key list disables key auth entirely: every key is refused (the seed accepted any key).
public struct APIKeyVerifier: Sendable {
    private let keys: [(bytes: [UInt8], scope: KeyScope)]

    public init(entries: [APIKeyEntry]) { keys = entries.map { (Array($0.key.utf8), $0.scope) } }

    /// Keys that serve every system.
    public init(keys: [String]) { self.init(entries: keys.map { APIKeyEntry(key: $0) }) }

    public var isEnabled: Bool { !keys.isEmpty }

    /// The scope of the configured key equal to `presented`, or nil. A key holding NUL or another control
    /// character is refused before any comparison: no configured key has one.
    public func scope(of presented: String) -> KeyScope? {
        guard !presented.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            return nil
        }
        let candidate = Array(presented.utf8)
        // Check every configured key, so timing does not reveal which one (or how much of one) matched.
        var matched: KeyScope?
        for key in keys where Self.constantTimeEquals(key.bytes, candidate) { matched = key.scope }
        return matched
    }

    public func isValid(_ presented: String) -> Bool { scope(of: presented) != nil }

    /// Compares in time that depends only on the lengths, never on where the bytes first differ. Lengths are not
    /// secret, so unequal lengths are simply unequal.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0 && !a.isEmpty
    }
}
