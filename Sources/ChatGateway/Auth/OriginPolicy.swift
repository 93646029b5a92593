import Foundation

/// `ALLOWED_CHAT_TOKEN_ORIGINS`: which browser origins may fetch chat tokens (and get CORS headers).
public struct OriginPolicy: Sendable {
    public let allowedOrigins: Set<String>

    public init(allowedOrigins: [String]) { self.allowedOrigins = Set(allowedOrigins) }

    /// An empty list allows every origin.
    public var allowsAll: Bool { allowedOrigins.isEmpty }

    /// Decides from `Origin`, else the origin of `Referer`. A request with neither comes from a
    /// backend, not a browser page, and still needs a valid key, so it passes.
    public func permits(originHeader: String?, refererHeader: String?) -> Bool {
        if allowsAll { return true }
        if let origin = originHeader, !origin.isEmpty {
            return allowedOrigins.contains(Self.normalize(origin))
        }
        if let referer = refererHeader, let url = URL(string: referer), let origin = Self.origin(of: url) {
            return allowedOrigins.contains(origin)
        }
        return refererHeader == nil
    }

    public func allows(origin: String) -> Bool { allowsAll || allowedOrigins.contains(Self.normalize(origin)) }

    static func normalize(_ origin: String) -> String {
        URL(string: origin).flatMap(origin(of:)) ?? origin.lowercased()
    }

    /// `scheme://host[:port]`, lower-cased, default ports dropped.
    static func origin(of url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return nil }
        let defaultPort = scheme == "https" ? 443 : 80
        if let port = url.port, port != defaultPort { return "\(scheme)://\(host):\(port)" }
        return "\(scheme)://\(host)"
    }
}
