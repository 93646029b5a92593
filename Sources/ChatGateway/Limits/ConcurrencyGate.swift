import NIOConcurrencyHelpers
import Vapor

/// Long requests running in this process (uploads, usage reports, exports), per key and in all: past either cap
/// one is refused at once, so none waits for a connection and a few callers cannot hold what chats need.
final class ConcurrencyGate: Sendable {
    /// What runs, as messages name it (`uploads`, `reports`).
    let what: String
    let maxPerKey: Int
    let maxInAll: Int

    private let running = NIOLockedValueBox<(perKey: [String: Int], inAll: Int)>(([:], 0))

    init(_ what: String, maxPerKey: Int, maxInAll: Int) {
        self.what = what
        self.maxPerKey = maxPerKey
        self.maxInAll = maxInAll
    }

    /// Uploads to Dify: also the uploads client's connections per Dify host.
    static func uploads() -> ConcurrencyGate { ConcurrencyGate("uploads", maxPerKey: 4, maxInAll: 32) }

    /// Usage reports and history exports. Two per key, as the usage page asks for two reports at once; on
    /// SQLite more than its reports pool holds wait for that pool, never for chats' connections.
    static func reports() -> ConcurrencyGate { ConcurrencyGate("reports and exports", maxPerKey: 2, maxInAll: 4) }

    /// Who a request is, for the per-key cap: a digest of its key, admin key or session cookie, never the secret.
    static func caller(of request: Request) -> String {
        let credential =
            request.headers.first(name: "X-API-Key") ?? request.headers.first(name: "X-Admin-Key")
            ?? request.headers.bearerAuthorization?.token ?? request.headers.first(name: .cookie) ?? ""
        return String(GatewayRegistry.hash(credential).prefix(16))
    }

    /// Runs `work` in a slot of `key` (a key's id or fingerprint, never the key), or throws why not.
    func run<T>(key: String, _ work: () async throws -> T) async throws -> T {
        try enter(key: key)
        defer { release(key: key) }
        return try await work()
    }

    func enter(key: String) throws(LimitError) {
        let refusal: LimitError? = running.withLockedValue { state in
            if state.perKey[key, default: 0] >= maxPerKey { return .tooManyAtOnce(what: what, limit: maxPerKey) }
            if state.inAll >= maxInAll { return .gatewayBusy(limit: maxInAll, variable: what) }
            state.perKey[key, default: 0] += 1
            state.inAll += 1
            return nil
        }
        if let refusal { throw refusal }
    }

    func release(key: String) {
        running.withLockedValue { state in
            let remaining = state.perKey[key, default: 1] - 1
            state.perKey[key] = remaining > 0 ? remaining : nil
            state.inAll -= 1
        }
    }
}
