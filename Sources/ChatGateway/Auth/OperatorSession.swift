import Foundation
import Vapor

/// Which keys open one kind of session, and whether the key a session was opened with still may.
protocol SessionKeys: Sendable {
    /// The fingerprint stored for a key that may sign in, or why it may not.
    func check(_ key: String) async -> SessionKeyCheck
    /// Whether a key of this fingerprint is still configured: removing it ends its sessions.
    func accepts(fingerprint: String) async -> Bool
}

enum SessionKeyCheck: Equatable {
    case accepted(fingerprint: String)
    case wrongKey
    /// A valid key of another kind (a scoped or browser key on the history page): the form says why.
    case keyTooNarrow
}

/// The history page's keys: only keys for all systems sign in; a scoped or browser key is recognized, to say why
/// it is refused.
struct HistoryPageKeys: SessionKeys {
    let apiKeys: APIKeyVerifier
    let browserKeys: APIKeyVerifier
    /// The all-systems keys' fingerprints, computed once rather than on every request with a session.
    let fingerprints: Set<String>

    init(apiKeys: [APIKeyEntry], browserKeys: [APIKeyEntry] = []) {
        self.apiKeys = APIKeyVerifier(entries: apiKeys)
        self.browserKeys = APIKeyVerifier(entries: browserKeys)
        fingerprints = Set(apiKeys.filter { $0.scope == .allSystems }.map { OperatorSessions.fingerprint($0.key) })
    }

    func check(_ key: String) async -> SessionKeyCheck {
        let scope = apiKeys.scope(of: key)
        guard scope == .allSystems else {
            return scope != nil || browserKeys.scope(of: key) != nil ? .keyTooNarrow : .wrongKey
        }
        return .accepted(fingerprint: OperatorSessions.fingerprint(key))
    }

    func accepts(fingerprint: String) async -> Bool { fingerprints.contains(fingerprint) }
}

/// A page's sign-in: the operator types a key once, and the browser keeps a signed, HttpOnly, SameSite=Strict
/// cookie instead of the key (nothing in URLs, nothing a script can read). The history page (`cg_operator`, API
/// keys) and the admin console (`cg_admin`, admin keys) each have one.
///
/// The cookie is `<session id>.<expires>.<mac>`: the id names a row of `OperatorSessionStore` (signing out
/// deletes it, for every copy of the cookie), the MAC is keyed by `OperatorSigningKey` (which no client backend
/// holds), and no expiry beyond sign-in time + 8 h is accepted. The row names the key only by a fingerprint, so
/// removing the key from the environment ends every session signed in with it.
struct OperatorSessions: Sendable {
    static let lifetime: TimeInterval = 8 * 3600
    /// Clocks of replicas differ a little; an expiry further out than this was never issued by us.
    static let leeway: TimeInterval = 60

    let cookieName: String
    let signingKey: OperatorSigningKey
    let store: OperatorSessionStore
    let keys: any SessionKeys
    let now: @Sendable () -> Date

    /// What signing in with a key gives.
    enum SignIn: Equatable {
        case session(String)
        case wrongKey
        /// A valid key that serves only some systems, or only chat tokens: the page shows every system.
        case keyTooNarrow
    }

    init(
        cookieName: String = "cg_operator", signingKey: OperatorSigningKey, store: OperatorSessionStore,
        keys: any SessionKeys, now: @escaping @Sendable () -> Date
    ) {
        self.cookieName = cookieName
        self.signingKey = signingKey
        self.store = store
        self.keys = keys
        self.now = now
    }

    func signIn(apiKey: String) async throws -> SignIn {
        let fingerprint: String
        switch await keys.check(apiKey) {
        case .accepted(let value): fingerprint = value
        case .wrongKey: return .wrongKey
        case .keyTooNarrow: return .keyTooNarrow
        }
        let issued = now()
        let expires = Int(issued.timeIntervalSince1970 + Self.lifetime)
        let id = String.randomHex(bytes: 16)
        try await store.create(
            id: id, keyFingerprint: fingerprint, createdAt: issued,
            expiresAt: Date(timeIntervalSince1970: TimeInterval(expires)))
        let payload = "\(id).\(expires)"
        return .session(payload + "." + (try await mac(payload)))
    }

    /// Whether the cookie is ours, unexpired, not signed out, and its key is still configured.
    func isValid(_ value: String) async -> Bool { await keyFingerprint(ofSession: value) != nil }

    /// The fingerprint of the key a valid session was opened with; nil for any cookie `isValid` refuses.
    func keyFingerprint(ofSession value: String) async -> String? {
        guard let (id, expires) = await verifiedCookie(value) else { return nil }
        let current = now().timeIntervalSince1970
        guard TimeInterval(expires) > current, TimeInterval(expires) <= current + Self.lifetime + Self.leeway else {
            return nil
        }
        guard let session = try? await store.session(id: id), session.expiresAt.timeIntervalSince1970 > current,
            await keys.accepts(fingerprint: session.keyFingerprint)
        else { return nil }
        return session.keyFingerprint
    }

    /// The cookie, if the request carries one.
    func cookie(of req: Request) -> String? { req.cookies[cookieName]?.string }

    /// Ends the cookie's session for every browser holding a copy of it.
    func signOut(_ value: String) async throws {
        guard let (id, _) = await verifiedCookie(value) else { return }
        try await store.delete(id: id)
    }

    /// The id and expiry of a cookie whose MAC is ours.
    private func verifiedCookie(_ value: String) async -> (id: String, expires: Int)? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, parts[0].utf8.count == 32, [UInt8](lowercaseHex: parts[0]) != nil,
            let expires = Int(parts[1]), let mac = [UInt8](lowercaseHex: parts[2]), mac.count == 32,
            let key = try? await signingKey.key()
        else { return nil }
        let payload = parts[0] + "." + parts[1]
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(payload.utf8), using: key) else {
            return nil
        }
        return (parts[0], expires)
    }

    func cookie(_ value: String, secure: Bool) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: value, maxAge: Int(Self.lifetime), path: "/", isSecure: secure, isHTTPOnly: true,
            sameSite: .strict)
    }

    static func expiredCookie(secure: Bool) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/", isSecure: secure,
            isHTTPOnly: true, sameSite: .strict)
    }

    /// The cookie is SameSite=Strict; a state-changing call must also carry a header no cross-site form can set.
    static func requireScriptHeader(_ req: Request) throws {
        if req.method != .GET, req.method != .HEAD, req.headers.first(name: "X-Requested-With") == nil {
            throw Abort(.forbidden, reason: "X-Requested-With header required")
        }
    }

    private func mac(_ payload: String) async throws -> String {
        HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: try await signingKey.key()).lowercaseHex
    }

    static func fingerprint(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).prefix(8).lowercaseHex
    }
}

/// Who may read the stored history: a request with a valid `X-API-Key` (its systems), or the history page's
/// session (every system: only all-systems keys sign in).
struct OperatorAccess: Sendable {
    let auth: GatewayAuthenticator
    let sessions: OperatorSessions

    /// The systems the caller may read.
    func scope(_ req: Request) async throws -> KeyScope {
        if req.headers.first(name: "X-API-Key") == nil, let session = sessions.cookie(of: req) {
            guard await sessions.isValid(session) else { throw AuthError.invalidAPIKey }
            try OperatorSessions.requireScriptHeader(req)
            return .allSystems
        }
        return try auth.operatorScope(req)
    }

    /// For what touches every system at once (the history sync).
    func requireAllSystems(_ req: Request) async throws {
        let scope = try await scope(req)
        guard scope == .allSystems else { throw AuthError.allSystemsKeyRequired(scope) }
    }
}
