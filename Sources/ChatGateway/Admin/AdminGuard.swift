import Foundation
import Vapor

/// Lets through only requests holding one of `CHAT_GATEWAY_ADMIN_KEY`'s keys, in `X-Admin-Key` or as the console's
/// `cg_admin` session. Ten wrong keys from one client address in a minute and that address gets 429 until its
/// allowance returns, right key or not. Each wrong key is written to the audit log.
struct AdminGuard: AsyncMiddleware {
    let adminKeys: APIKeyVerifier
    let sessions: OperatorSessions
    let failures: RateLimiter
    let clients: ClientAddress
    let store: AdminStore
    let now: @Sendable () -> Date

    init(settings: Settings, store: AdminStore, sessions: OperatorSessions, now: @escaping @Sendable () -> Date) {
        adminKeys = APIKeyVerifier(keys: settings.adminKeys)
        self.sessions = sessions
        failures = RateLimiter(limit: RateLimit(count: 10, period: 60), now: now)
        clients = ClientAddress(trustedProxies: settings.trustedProxies)
        self.store = store
        self.now = now
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        request.storage[AdminActorKey.self] = try await authorize(request)
        return try await next.respond(to: request)
    }

    /// The admin actor of a request holding an admin key or session; throws for any other.
    func authorize(_ request: Request) async throws -> String {
        guard adminKeys.isEnabled else { throw AdminError.disabled }
        if let presented = request.headers.first(name: "X-Admin-Key") {
            return try await verify(presented, from: request)
        }
        let holdsOtherCredential =
            request.headers.first(name: "X-API-Key") != nil || request.headers.bearerAuthorization != nil
        if !holdsOtherCredential, let cookie = sessions.cookie(of: request) {
            guard let fingerprint = await sessions.keyFingerprint(ofSession: cookie) else {
                throw AdminError.invalidAdminKey
            }
            try OperatorSessions.requireScriptHeader(request)
            return String(fingerprint.prefix(AdminSessionKeys.actorLength))
        }
        throw holdsOtherCredential ? AdminError.notAnAdminCredential : AdminError.adminKeyRequired
    }

    /// The key's actor name if it is an admin key; a wrong one counts against the caller's address and is audited.
    func verify(_ presented: String, from request: Request) async throws -> String {
        guard adminKeys.isEnabled else { throw AdminError.disabled }
        let address = clients.of(request)
        if let seconds = await failures.wait(for: address) {
            throw LimitError.rateLimited(scope: .adminSignIn, retryAfter: seconds)
        }
        guard adminKeys.isValid(presented) else {
            _ = await failures.acquire(address)
            try? await store.record(
                AuditEntry(
                    at: now(), actor: "unknown", action: "admin.sign_in_failed", target: address,
                    detail: "a wrong admin key"))
            throw AdminError.invalidAdminKey
        }
        return Self.fingerprint(presented)
    }

    /// `admin:` and the first 8 hex digits of the key's SHA-256: tells keys apart in the log, reveals nothing.
    static func fingerprint(_ key: String) -> String {
        "admin:" + GatewayRegistry.hash(key).prefix(8)
    }
}

/// The console's keys: `CHAT_GATEWAY_ADMIN_KEY`'s. A session row names its key as `admin:` and 16 hex digits of
/// its SHA-256, so a history-page session never passes for an admin one, and its first 14 characters are the
/// key's `AdminGuard.fingerprint`.
struct AdminSessionKeys: SessionKeys {
    static let actorLength = "admin:".count + 8
    let verifier: APIKeyVerifier
    let fingerprints: Set<String>

    init(adminKeys: [String]) {
        verifier = APIKeyVerifier(keys: adminKeys)
        fingerprints = Set(adminKeys.map(Self.fingerprint))
    }

    func check(_ key: String) async -> SessionKeyCheck {
        verifier.isValid(key) ? .accepted(fingerprint: Self.fingerprint(key)) : .wrongKey
    }

    func accepts(fingerprint: String) async -> Bool { fingerprints.contains(fingerprint) }

    static func fingerprint(_ key: String) -> String { "admin:" + OperatorSessions.fingerprint(key) }
}

/// The signed-in admin's fingerprint, for the audit log.
struct AdminActorKey: StorageKey {
    typealias Value = String
}

extension Request {
    var adminActor: String { storage[AdminActorKey.self] ?? "unknown" }
}
