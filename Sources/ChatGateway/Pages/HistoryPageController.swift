import Foundation
import Vapor

/// The operators' history page: `GET /cache` (the page, or its sign-in form), `GET /cache/usage` (the usage view),
/// `POST /cache/login`
/// (form field `api_key`) and `POST /cache/logout`. Signing in trades the API key for the `cg_operator`
/// session cookie once; the page's script then reads `/v1/cache/...` with that cookie.
///
/// `GET /cache?api_key=` is the seed's way in and still works: the key is exchanged for the cookie and
/// the browser is sent straight back to `/cache` without it (other parameters such as `lang` stay). Followed
/// from another site, the key is only dropped: the browser lands on the sign-in form.
/// Nothing here logs the key: the access log records the path only, and no other line is written.
struct HistoryPageController: RouteCollection {
    let flow: SessionPageFlow

    init(sessions: OperatorSessions) { flow = SessionPageFlow(sessions: sessions) }

    struct SignInForm: Decodable {
        var apiKey: String?
        enum CodingKeys: String, CodingKey { case apiKey = "api_key" }
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("cache", use: page)
        routes.get("cache", "usage", use: usagePage)
        routes.post("cache", "login", use: login)
        routes.post("cache", "logout", use: logout)
    }

    @Sendable
    func page(_ req: Request) async throws -> Response {
        let query = HistoryPageQuery(req.url)
        if let key = req.query[String.self, at: HistoryPageQuery.apiKeyParameter] {
            // Login CSRF: a link on another site must not sign this browser in with someone else's key.
            guard !SameOriginCheck.isCrossSiteNavigation(req) else {
                return SessionPageFlow.redirect(to: query.path("/cache"))
            }
            return try await signIn(req, apiKey: key, query: query)
        }
        return await flow.page(
            req, signedIn: { render(req, .signedIn, query: query) },
            signIn: { ended in render(req, .signIn(notice: ended ? .sessionEnded : nil), query: query) })
    }

    /// The usage view; signed out, the history page's sign-in form.
    @Sendable
    func usagePage(_ req: Request) async throws -> Response {
        let query = HistoryPageQuery(req.url)
        return await flow.page(
            req,
            signedIn: {
                let language = SessionPageFlow.language(req, query: query)
                let view = UsagePageView(language: language, strings: .forLanguage(language), query: query)
                return SessionPageFlow.html(view.render(), status: .ok)
            },
            signIn: { ended in render(req, .signIn(notice: ended ? .sessionEnded : nil), query: query) })
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
        return try await flow.signOut(req, location: query.path("/cache")) {
            render(req, .signIn(notice: .crossSite), query: query, status: .forbidden)
        }
    }

    /// A valid key for all systems: the session cookie and a 303 to the page (a reload never re-posts the key).
    /// A wrong one: the form again, with the reason, as 401; a scoped or browser key: the same with 403.
    private func signIn(_ req: Request, apiKey: String, query: HistoryPageQuery) async throws -> Response {
        switch try await flow.sessions.signIn(apiKey: apiKey.trimmingCharacters(in: .whitespacesAndNewlines)) {
        case .session(let session): return flow.signedIn(req, session: session, location: query.path("/cache"))
        case .wrongKey: return render(req, .signIn(notice: .wrongKey), query: query, status: .unauthorized)
        case .keyTooNarrow: return render(req, .signIn(notice: .keyTooNarrow), query: query, status: .forbidden)
        }
    }

    private func render(
        _ req: Request, _ content: HistoryPageView.Content, query: HistoryPageQuery, status: HTTPResponseStatus = .ok
    ) -> Response {
        let language = SessionPageFlow.language(req, query: query)
        let view = HistoryPageView(language: language, strings: .forLanguage(language), query: query, content: content)
        return SessionPageFlow.html(view.render(), status: status)
    }
}
