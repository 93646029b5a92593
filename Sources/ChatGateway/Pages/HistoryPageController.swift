import Foundation
import Vapor

/// The operators' history page: `GET /cache` (the page, or its sign-in form), `POST /cache/login`
/// (form field `api_key`) and `POST /cache/logout`. Signing in trades the API key for the `cg_operator`
/// session cookie once; the page's script then reads `/v1/cache/...` with that cookie.
///
/// `GET /cache?api_key=` is the seed's way in and still works: the key is exchanged for the cookie and
/// the browser is sent straight back to `/cache` without it (other parameters such as `lang` stay). Followed
/// from another site, the key is only dropped: the browser lands on the sign-in form.
/// Nothing here logs the key: the access log records the path only, and no other line is written.
struct HistoryPageController: RouteCollection {
    let sessions: OperatorSessions

    struct SignInForm: Decodable {
        var apiKey: String?
        enum CodingKeys: String, CodingKey { case apiKey = "api_key" }
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("cache", use: page)
        routes.post("cache", "login", use: login)
        routes.post("cache", "logout", use: logout)
    }

    @Sendable
    func page(_ req: Request) async throws -> Response {
        let query = HistoryPageQuery(req.url)
        if let key = req.query[String.self, at: HistoryPageQuery.apiKeyParameter] {
            // Login CSRF: a link on another site must not sign this browser in with someone else's key.
            guard !SameOriginCheck.isCrossSiteNavigation(req) else { return redirect(to: query.path("/cache")) }
            return try await signIn(req, apiKey: key, query: query)
        }
        guard let session = req.cookies[OperatorSessions.cookieName]?.string else {
            return render(req, .signIn(notice: nil), query: query)
        }
        guard await sessions.isValid(session) else {
            // Expired, or signed with a key that was removed: say so, and drop the dead cookie.
            let response = render(req, .signIn(notice: .sessionEnded), query: query)
            response.cookies[OperatorSessions.cookieName] = OperatorSessions.expiredCookie(secure: Self.isSecure(req))
            return response
        }
        return render(req, .signedIn, query: query)
    }

    @Sendable
    func login(_ req: Request) async throws -> Response {
        let query = HistoryPageQuery(req.url)
        guard !SameOriginCheck.isCrossSite(req) else {
            return render(req, .signIn(notice: .crossSite), query: query, status: .forbidden)
        }
        let form = (try? req.content.decode(SignInForm.self)) ?? SignInForm()
        return try await signIn(req, apiKey: form.apiKey ?? "", query: query)
    }

    @Sendable
    func logout(_ req: Request) async throws -> Response {
        let query = HistoryPageQuery(req.url)
        guard !SameOriginCheck.isCrossSite(req) else {
            return render(req, .signIn(notice: .crossSite), query: query, status: .forbidden)
        }
        if let session = req.cookies[OperatorSessions.cookieName]?.string { try await sessions.signOut(session) }
        let response = redirect(to: query.path("/cache"))
        response.cookies[OperatorSessions.cookieName] = OperatorSessions.expiredCookie(secure: Self.isSecure(req))
        return response
    }

    /// A valid key for all systems: the session cookie and a 303 to the page (a reload never re-posts the key).
    /// A wrong one: the form again, with the reason, as 401; a scoped or browser key: the same with 403.
    private func signIn(_ req: Request, apiKey: String, query: HistoryPageQuery) async throws -> Response {
        let session: String
        switch try await sessions.signIn(apiKey: apiKey.trimmingCharacters(in: .whitespacesAndNewlines)) {
        case .session(let value): session = value
        case .wrongKey: return render(req, .signIn(notice: .wrongKey), query: query, status: .unauthorized)
        case .keyTooNarrow: return render(req, .signIn(notice: .keyTooNarrow), query: query, status: .forbidden)
        }
        let response = redirect(to: query.path("/cache"))
        response.cookies[OperatorSessions.cookieName] = sessions.cookie(session, secure: Self.isSecure(req))
        return response
    }

    private func render(
        _ req: Request, _ content: HistoryPageView.Content, query: HistoryPageQuery, status: HTTPResponseStatus = .ok
    ) -> Response {
        let language = PageLanguage.negotiate(
            requested: query.value("lang"), acceptLanguage: req.headers.first(name: .acceptLanguage))
        let view = HistoryPageView(language: language, strings: .forLanguage(language), query: query, content: content)
        var headers = Self.headers()
        headers.contentType = .html
        return Response(status: status, headers: headers, body: .init(string: view.render()))
    }

    private func redirect(to location: String) -> Response {
        var headers = Self.headers()
        headers.replaceOrAdd(name: .location, value: location)
        return Response(status: .seeOther, headers: headers)
    }

    private static func headers() -> HTTPHeaders {
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
