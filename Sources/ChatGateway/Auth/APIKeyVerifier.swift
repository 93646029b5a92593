/// Checks `X-API-Key` against `CHAT_GATEWAY_API_KEY`.
///
/// An empty key list disables key auth entirely: every key is refused (the seed accepted any key).
public struct APIKeyVerifier: Sendable {
    private let keys: [[UInt8]]

    public init(keys: [String]) { self.keys = keys.map { Array($0.utf8) } }

    public var isEnabled: Bool { !keys.isEmpty }

    public func isValid(_ presented: String) -> Bool {
        let candidate = Array(presented.utf8)
        // Check every configured key, so timing does not reveal which one (or how much of one) matched.
        var matched = false
        for key in keys where Self.constantTimeEquals(key, candidate) { matched = true }
        return matched
    }

    /// Compares in time that depends only on the lengths, never on where the bytes first differ.
    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(truncatingIfNeeded: a.count ^ b.count)
        let length = max(a.count, b.count)
        for i in 0..<length {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0 && !a.isEmpty
    }
}
