/// Which systems an API key may act for: every system (a plain `KEY`), or only those named before
/// its `:` (`drillquiz:KEY`, `drillquiz+cointutor:KEY`).
public enum KeyScope: Sendable, Equatable {
    case allSystems
    case systems(Set<String>)

    public func permits(_ systemID: String) -> Bool {
        switch self {
        case .allSystems: true
        case .systems(let ids): ids.contains(systemID)
        }
    }

    /// `all systems`, or the ids in order (`cointutor, drillquiz`): for logs and error messages, never a key.
    public var summary: String {
        switch self {
        case .allSystems: "all systems"
        case .systems(let ids): ids.sorted().joined(separator: ", ")
        }
    }
}

/// One entry of `CHAT_GATEWAY_API_KEY` or `CHAT_GATEWAY_BROWSER_KEY`: the key and the systems it serves.
public struct APIKeyEntry: Sendable, Equatable {
    public let key: String
    public let scope: KeyScope

    public init(key: String, scope: KeyScope = .allSystems) {
        self.key = key
        self.scope = scope
    }
}
