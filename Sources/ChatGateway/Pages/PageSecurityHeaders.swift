import Vapor

/// The headers every chat page carries: a CSP that runs only the gateway's own files (so nothing in an
/// answer can execute), framing allowed for the client sites, no referrer (the first URL holds the token)
/// and no caching of a page that embeds a token.
struct PageSecurityHeaders: Sendable {
    /// `ALLOWED_CHAT_TOKEN_ORIGINS`: the sites that may embed the page; empty means any site.
    let framingOrigins: [String]

    var contentSecurityPolicy: String {
        let ancestors = framingOrigins.isEmpty ? "*" : (["'self'"] + framingOrigins).joined(separator: " ")
        return [
            "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
            "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors \(ancestors)",
        ].joined(separator: "; ")
    }

    func apply(to headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: "Content-Security-Policy", value: contentSecurityPolicy)
        headers.replaceOrAdd(name: "Referrer-Policy", value: "no-referrer")
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
    }
}
