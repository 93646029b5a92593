import Foundation
import Vapor

/// `GET /chat` and `GET /chat-api` (the seed's alias): the chat page for the user a token names.
/// `?token=<JWT>[&embed=1][&lang=en|es|ko|zh|ja]`.
struct ChatPageController: RouteCollection {
    let auth: GatewayAuthenticator
    let headers: PageSecurityHeaders
    let store: ConversationStore

    struct Query: Decodable {
        var token: String?
        var embed: String?
        var lang: String?
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("chat", use: page)
        routes.get("chat-api", use: page)
    }

    @Sendable
    func page(_ req: Request) async -> Response {
        let query = (try? req.query.decode(Query.self)) ?? Query()
        let language = PageLanguage.negotiate(
            requested: query.lang, acceptLanguage: req.headers.first(name: .acceptLanguage))
        let access = await ChatPageAccess.check(token: query.token, auth: auth)
        if case .granted(let caller, _) = access { await register(caller, req) }
        let view = ChatPageView(
            language: language, strings: .forLanguage(language),
            mode: ["1", "true"].contains(query.embed ?? "") ? .embed : .full,
            access: access)
        var responseHeaders = HTTPHeaders()
        responseHeaders.contentType = .html
        var pageHeaders = headers
        // A system defined through the admin API with origins of its own is framed by those sites instead.
        if case .granted(let caller, _) = access, let origins = auth.registry?.allowedOrigins(of: caller.systemID) {
            pageHeaders = PageSecurityHeaders(framingOrigins: origins)
        }
        pageHeaders.apply(to: &responseHeaders)
        let status: HTTPResponseStatus
        switch access {
        case .granted: status = .ok
        case .refused(let refusal): status = refusal.status
        }
        return Response(status: status, headers: responseHeaders, body: .init(string: view.render()))
    }

    /// Opening the page makes the user known to the sync, as the seed did. A database hiccup here must not
    /// keep the user from the page: their first message registers them again.
    private func register(_ caller: CallerIdentity, _ req: Request) async {
        do {
            try await store.registerUser(caller)
        } catch {
            req.logger.warning(
                "chat page: could not register the user",
                metadata: ["error": .string(String(reflecting: type(of: error)))])
        }
    }
}
