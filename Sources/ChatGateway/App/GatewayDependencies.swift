import Foundation

/// The collaborators `configure` wires together. Tests replace any of them.
public struct GatewayDependencies: Sendable {
    /// The live Dify client, or a stub; nil means "HTTP to the configured Dify".
    public var dify: (any DifyClient)?
    public var now: @Sendable () -> Date

    public init(dify: (any DifyClient)? = nil, now: @escaping @Sendable () -> Date = Date.init) {
        self.dify = dify
        self.now = now
    }
}
