import Foundation
import Vapor

/// The admin console: `GET /admin` (the console, or its sign-in form), `POST /admin/login` (form field
/// `admin_key`) and `POST /admin/logout`. Signing in trades the admin key for the `cg_admin` session cookie; the
/// console's script then calls `/admin/v1/...` with that cookie and `X-Requested-With`. Wrong keys count against
/// the address and are audited exactly as on the API (`AdminGuard.verify`).
struct AdminPageController: RouteCollection {
    let flow: SessionPageFlow
    let adminGuard: AdminGuard

    struct SignInForm: Decodable {
        var adminKey: String?
        enum CodingKeys: String, CodingKey { case adminKey = "admin_key" }
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("admin", use: page)
        routes.post("admin", "login", use: login)
        routes.post("admin", "logout", use: logout)
    }

    @Sendable
    func page(_ req: Request) async throws -> Response {
        guard adminGuard.adminKeys.isEnabled else { throw AdminError.disabled }
        let query = HistoryPageQuery(req.url)
        return await flow.page(
            req, signedIn: { render(req, .signedIn, query: query) },
            signIn: { ended in render(req, .signIn(notice: ended ? .sessionEnded : nil), query: query) })
    }

    /// A right key: the cookie and a 303 to the console. A wrong one: the form again, with the reason, as 401;
    /// too many wrong ones from this address: 429 with `Retry-After`.
    @Sendable
    func login(_ req: Request) async throws -> Response {
        guard adminGuard.adminKeys.isEnabled else { throw AdminError.disabled }
        let query = HistoryPageQuery(req.url)
        guard !SameOriginCheck.isCrossSite(req) else {
            return render(req, .signIn(notice: .crossSite), query: query, status: .forbidden)
        }
        let form = (try? req.content.decode(SignInForm.self)) ?? SignInForm()
        let key = (form.adminKey ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        let actor: String
        do {
            actor = try await adminGuard.verify(key, from: req)
        } catch AdminError.invalidAdminKey {
            return render(req, .signIn(notice: .wrongKey), query: query, status: .unauthorized)
        } catch LimitError.rateLimited(_, let seconds) {
            let response = render(
                req, .signIn(notice: .tooManyAttempts(retryAfter: seconds)), query: query, status: .tooManyRequests)
            response.headers.replaceOrAdd(name: .retryAfter, value: String(seconds))
            return response
        }
        guard case .session(let session) = try await flow.sessions.signIn(apiKey: key) else {
            return render(req, .signIn(notice: .wrongKey), query: query, status: .unauthorized)
        }
        try await adminGuard.store.record(
            AuditEntry(
                at: adminGuard.now(), actor: actor, action: "admin.signed_in", target: adminGuard.clients.of(req),
                detail: "console session"))
        return flow.signedIn(req, session: session, location: query.path("/admin"))
    }

    @Sendable
    func logout(_ req: Request) async throws -> Response {
        let query = HistoryPageQuery(req.url)
        if !SameOriginCheck.isCrossSite(req), let session = flow.sessions.cookie(of: req),
            let fingerprint = await flow.sessions.keyFingerprint(ofSession: session)
        {
            try await adminGuard.store.record(
                AuditEntry(
                    at: adminGuard.now(), actor: String(fingerprint.prefix(AdminSessionKeys.actorLength)),
                    action: "admin.signed_out", target: adminGuard.clients.of(req), detail: "console session"))
        }
        return try await flow.signOut(req, location: query.path("/admin")) {
            render(req, .signIn(notice: .crossSite), query: query, status: .forbidden)
        }
    }

    private func render(
        _ req: Request, _ content: AdminPageView.Content, query: HistoryPageQuery, status: HTTPResponseStatus = .ok
    ) -> Response {
        let language = SessionPageFlow.language(req, query: query)
        let view = AdminPageView(language: language, strings: .forLanguage(language), query: query, content: content)
        return SessionPageFlow.html(view.render(), status: status)
    }
}
