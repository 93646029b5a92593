import Foundation
import Vapor

/// The history page's sign-in: the operator types an API key once, and the browser keeps a signed,
/// HttpOnly, SameSite=Strict cookie instead of the key (nothing in URLs, nothing a script can read).
/// The cookie names the key only by a fingerprint, so removing the key from `CHAT_GATEWAY_API_KEY`
/// ends every session signed in with it.
struct OperatorSessions: Sendable {
    static let cookieName = "cg_operator"
    let secret: SymmetricKey
    let apiKeys: APIKeyVerifier
    let browserKeys: APIKeyVerifier
    /// The all-systems keys' fingerprints, computed once rather than on every request with a session.
    let keyFingerprints: Set<String>
    let lifetime: TimeInterval = 8 * 3600
    let now: @Sendable () -> Date

    /// What signing in with a key gives.
    enum SignIn: Equatable {
        case session(String)
        case wrongKey
        /// A valid key that serves only some systems, or only chat tokens: the page shows every system.
        case keyTooNarrow
    }

    /// Only keys for all systems open sessions; a scoped or browser key is recognized, to say why it is refused.
    init(secret: String, apiKeys: [APIKeyEntry], browserKeys: [APIKeyEntry] = [], now: @escaping @Sendable () -> Date) {
        self.secret = SymmetricKey(data: SHA256.hash(data: Data(("operator-session:" + secret).utf8)))
        self.apiKeys = APIKeyVerifier(entries: apiKeys)
        self.browserKeys = APIKeyVerifier(entries: browserKeys)
        self.keyFingerprints = Set(apiKeys.filter { $0.scope == .allSystems }.map { Self.fingerprint($0.key) })
        self.now = now
    }

    func signIn(apiKey: String) -> SignIn {
        let scope = apiKeys.scope(of: apiKey)
        let browser = browserKeys.scope(of: apiKey)
        guard scope == .allSystems else { return scope != nil || browser != nil ? .keyTooNarrow : .wrongKey }
        let expires = Int(now().timeIntervalSince1970 + lifetime)
        let payload = "\(expires).\(Self.fingerprint(apiKey))"
        return .session(payload + "." + mac(payload))
    }

    func isValid(_ value: String) -> Bool {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3, let expires = Int(parts[0]), TimeInterval(expires) > now().timeIntervalSince1970 else {
            return false
        }
        let payload = parts[0] + "." + parts[1]
        guard
            HMAC<SHA256>.isValidAuthenticationCode(
                Self.hexBytes(parts[2]) ?? [], authenticating: Data(payload.utf8), using: secret)
        else { return false }
        return keyFingerprints.contains(parts[1])
    }

    func cookie(_ value: String, secure: Bool) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: value, maxAge: Int(lifetime), path: "/", isSecure: secure, isHTTPOnly: true, sameSite: .strict)
    }

    static func expiredCookie(secure: Bool) -> HTTPCookies.Value {
        HTTPCookies.Value(
            string: "", expires: Date(timeIntervalSince1970: 0), maxAge: 0, path: "/", isSecure: secure,
            isHTTPOnly: true, sameSite: .strict)
    }

    private func mac(_ payload: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: secret).lowercaseHex
    }

    static func fingerprint(_ key: String) -> String {
        SHA256.hash(data: Data(key.utf8)).prefix(8).lowercaseHex
    }

    private static func hexBytes(_ hex: String) -> [UInt8]? {
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        return bytes
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
            guard sessions.isValid(session) else { throw AuthError.invalidAPIKey }
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
