import Vapor

/// The headers every chat page carries: a CSP that runs only the gateway's own files (so nothing in an
/// answer can execute), framing allowed for the client sites, no referrer (the first URL holds the token)
/// and no caching of a page that embeds a token. The history page uses the `operatorPage` variant.
struct PageSecurityHeaders: Sendable {
    /// `ALLOWED_CHAT_TOKEN_ORIGINS`: the sites that may embed the page; empty means any site.
    let framingOrigins: [String]
    /// Where the page's forms may submit: nowhere on the chat page; to the gateway on the history page (sign-in, sign-out).
    var formAction = "'none'"
    /// Who may frame the page: the client sites (the chat page), the gateway itself (`/docs`), or nobody (the
    /// history page, for operators only: no clickjacking of its buttons).
    enum Framing: Sendable { case clientSites, sameOrigin, never }
    var framingPolicy = Framing.clientSites
    var styleSource = "'self'"
    /// The history page says `same-origin`, so its own sign-in POST carries a real `Origin` to check
    /// (under `no-referrer` a browser sends `Origin: null`).
    var referrerPolicy = "no-referrer"

    /// The history page's variant.
    static let operatorPage = PageSecurityHeaders(
        framingOrigins: [], formAction: "'self'", framingPolicy: .never, referrerPolicy: "same-origin")

    var contentSecurityPolicy: String {
        let ancestors =
            switch framingPolicy {
            case .never: "'none'"
            case .sameOrigin: "'self'"
            case .clientSites: framingOrigins.isEmpty ? "*" : (["'self'"] + framingOrigins).joined(separator: " ")
            }
        return [
            // blob: for what the page makes itself: previews of files being attached, and read-aloud audio.
            "default-src 'self'", "script-src 'self'", "style-src \(styleSource)", "img-src 'self' data: blob:",
            "media-src 'self' blob:", "connect-src 'self'",
            "object-src 'none'", "base-uri 'none'", "form-action \(formAction)", "frame-ancestors \(ancestors)",
        ].joined(separator: "; ")
    }

    func apply(to headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: "Content-Security-Policy", value: contentSecurityPolicy)
        headers.replaceOrAdd(name: "Referrer-Policy", value: referrerPolicy)
        switch framingPolicy {
        case .never: headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        case .sameOrigin: headers.replaceOrAdd(name: "X-Frame-Options", value: "SAMEORIGIN")
        case .clientSites: break
        }
        headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
    }
}
