import Foundation
import Vapor

/// `GET /v1/chat-token`: a client system's backend (or front end, from an allowed origin) gets a 24 h chat JWT.
struct ChatTokenController: RouteCollection {
    let auth: GatewayAuthenticator
    let tokens: ChatTokenService
    let origins: OriginPolicy

    struct Query: Content {
        var systemID: String?
        var userID: String?
        var lang: String?

        enum CodingKeys: String, CodingKey { case systemID = "system_id", userID = "user_id", lang }
    }

    struct Response: Content {
        var token: String
        var ui: WidgetStrings?
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("chat-token", use: issue)
    }

    @Sendable
    func issue(_ req: Request) async throws -> Response {
        try auth.requireAPIKey(req)
        guard origins.permits(originHeader: req.headers.first(name: .origin), refererHeader: req.headers.first(name: .referer)) else {
            throw AuthError.originNotAllowed
        }
        let query = try req.query.decode(Query.self)
        let caller = try auth.identity(.apiKey, systemID: query.systemID, userID: query.userID)
        let token = try await tokens.issue(systemID: caller.systemID, userID: caller.userID)
        return Response(token: token, ui: query.lang.flatMap { $0.isEmpty ? nil : WidgetStrings.forLanguage($0) })
    }
}
