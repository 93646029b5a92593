import Foundation
import Vapor

/// The history page's sign-in: the operator types an API key once, and the browser keeps a signed,
/// HttpOnly, SameSite=Strict cookie instead of the key (nothing in URLs, nothing a script can read).
///
/// The cookie is `<session id>.<expires>.<mac>`: the id names a row of `OperatorSessionStore` (signing out
/// deletes it, for every copy of the cookie), the MAC is keyed by `OperatorSigningKey` (which no client backend
/// holds), and no expiry beyond sign-in time + 8 h is accepted. The row names the key only by a fingerprint, so
/// removing the key from `CHAT_GATEWAY_API_KEY` ends every session signed in with it.
struct OperatorSessions: Sendable {
    static let cookieName = "cg_operator"
    static let lifetime: TimeInterval = 8 * 3600
    /// Clocks of replicas differ a little; an expiry further out than this was never issued by us.
    static let leeway: TimeInterval = 60

    let signingKey: OperatorSigningKey
    let store: OperatorSessionStore
    let apiKeys: APIKeyVerifier
    let browserKeys: APIKeyVerifier
    /// The all-systems keys' fingerprints, computed once rather than on every request with a session.
    let keyFingerprints: Set<String>
    let now: @Sendable () -> Date

    /// What signing in with a key gives.
    enum SignIn: Equatable {
        case session(String)
        case wrongKey
        /// A valid key that serves only some systems, or only chat tokens: the page shows every system.
        case keyTooNarrow
    }

    /// Only keys for all systems open sessions; a scoped or browser key is recognized, to say why it is refused.
    init(
        signingKey: OperatorSigningKey, store: OperatorSessionStore, apiKeys: [APIKeyEntry],
        browserKeys: [APIKeyEntry] = [], now: @escaping @Sendable () -> Date
    ) {
        self.signingKey = signingKey
        self.store = store
        self.apiKeys = APIKeyVerifier(entries: apiKeys)
        self.browserKeys = APIKeyVerifier(entries: browserKeys)
        self.keyFingerprints = Set(apiKeys.filter { $0.scope == .allSystems }.map { Self.fingerprint($0.key) })
        self.now = now
    }

    func signIn(apiKey: String) async throws -> SignIn {
        let scope = apiKeys.scope(of: apiKey)
        let browser = browserKeys.scope(of: apiKey)
        guard scope == .allSystems else { return scope != nil || browser != nil ? .keyTooNarrow : .wrongKey }
        let issued = now()
        let expires = Int(issued.timeIntervalSince1970 + Self.lifetime)
        let id = String.randomHex(bytes: 16)
        try await store.create(
            id: id, keyFingerprint: Self.fingerprint(apiKey), createdAt: issued,
            expiresAt: Date(timeIntervalSince1970: TimeInterval(expires)))
        let payload = "\(id).\(expires)"
        return .session(payload + "." + (try await mac(payload)))
    }

    /// Whether the cookie is ours, unexpired, not signed out, and its key is still configured.
    func isValid(_ value: String) async -> Bool {
        guard let (id, expires) = await verifiedCookie(value) else { return false }
        let current = now().timeIntervalSince1970
        guard TimeInterval(expires) > current, TimeInterval(expires) <= current + Self.lifetime + Self.leeway else {
            return false
        }
        guard let session = try? await store.session(id: id) else { return false }
        return session.expiresAt.timeIntervalSince1970 > current && keyFingerprints.contains(session.keyFingerprint)
    }

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
        if req.headers.first(name: "X-API-Key") == nil, let session = req.cookies[OperatorSessions.cookieName]?.string {
            guard await sessions.isValid(session) else { throw AuthError.invalidAPIKey }
            // The cookie is SameSite=Strict; a state-changing call must also carry a header no cross-site form can set.
            if req.method != .GET, req.headers.first(name: "X-Requested-With") == nil {
                throw Abort(.forbidden, reason: "X-Requested-With header required")
            }
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
