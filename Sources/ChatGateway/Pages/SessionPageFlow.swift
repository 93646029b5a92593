import Foundation
import Vapor

/// What the two operator pages (`/cache`, `/admin`) share around their session cookie: reading it, setting it
/// after a sign-in with a 303 back to the page (a reload never re-posts the key), and signing out.
struct SessionPageFlow: Sendable {
    let sessions: OperatorSessions

    /// The page for the request's cookie: signed in, or the sign-in form, which says so when the session ended
    /// (expired, signed out elsewhere, or its key removed) and drops the dead cookie.
    func page(
        _ req: Request, signedIn: () -> Response, signIn: (_ sessionEnded: Bool) -> Response
    ) async -> Response {
        guard let cookie = sessions.cookie(of: req) else { return signIn(false) }
        if await sessions.isValid(cookie) { return signedIn() }
        let response = signIn(true)
        dropCookie(req, from: response)
        return response
    }

    /// The language a page is shown in: `?lang=`, else the browser's.
    static func language(_ req: Request, query: HistoryPageQuery) -> String {
        PageLanguage.negotiate(requested: query.value("lang"), acceptLanguage: req.headers.first(name: .acceptLanguage))
    }

    /// The session cookie, and the browser sent to `location`.
    func signedIn(_ req: Request, session: String, location: String) -> Response {
        let response = Self.redirect(to: location)
        response.cookies[sessions.cookieName] = sessions.cookie(session, secure: Self.isSecure(req))
        return response
    }

    /// Drops a dead cookie along with a response.
    func dropCookie(_ req: Request, from response: Response) {
        response.cookies[sessions.cookieName] = OperatorSessions.expiredCookie(secure: Self.isSecure(req))
    }

    /// Ends the session for every copy of the cookie, and sends the browser to `location`. Posted from another
    /// site, it is refused with `crossSite` (the form saying so).
    func signOut(_ req: Request, location: String, crossSite: () -> Response) async throws -> Response {
        guard !SameOriginCheck.isCrossSite(req) else { return crossSite() }
        if let session = sessions.cookie(of: req) { try await sessions.signOut(session) }
        let response = Self.redirect(to: location)
        dropCookie(req, from: response)
        return response
    }

    static func redirect(to location: String) -> Response {
        var headers = pageHeaders()
        headers.replaceOrAdd(name: .location, value: location)
        return Response(status: .seeOther, headers: headers)
    }

    /// An operator page's HTML with its security headers.
    static func html(_ page: String, status: HTTPResponseStatus) -> Response {
        var headers = pageHeaders()
        headers.contentType = .html
        return Response(status: status, headers: headers, body: .init(string: page))
    }

    private static func pageHeaders() -> HTTPHeaders {
        var headers = HTTPHeaders()
        PageSecurityHeaders.operatorPage.apply(to: &headers)
        return headers
    }

    /// Whether the browser reached us over https, directly or through a proxy that says so: then the cookie
    /// is `Secure`. Plain http (localhost) must still get a cookie it can send back.
    static func isSecure(_ req: Request) -> Bool {
        if req.application.http.server.configuration.tlsConfiguration != nil { return true }
        let proto = req.headers.first(name: "X-Forwarded-Proto")?.split(separator: ",").first?.trimmingCharacters(
            in: .whitespaces)
        return proto?.lowercased() == "https" || req.url.scheme?.lowercased() == "https"
    }
}
