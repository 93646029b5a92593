import Foundation
import Vapor

/// `GET /v1/chat-token`: a client system's backend (or front end, from an allowed origin) gets a 24 h chat JWT.
/// `user_id=anonymous` gets a token for a fresh visitor id (`anonymous-…`), returned in `user_id` so the
/// widget can keep it and renew that visitor's token later; a browser key may ask for nothing else.
struct ChatTokenController: RouteCollection {
    let auth: GatewayAuthenticator
    let tokens: ChatTokenService
    let origins: OriginPolicy
    let issuance: TokenIssuanceLimit

    struct Query: Content {
        var systemID: String?
        var userID: String?
        var lang: String?

        enum CodingKeys: String, CodingKey { case systemID = "system_id", userID = "user_id", lang }
    }

    struct Response: Content {
        var token: String
        /// Whom the token is for: the requested user, or the visitor id given for `anonymous`.
        var userID: String
        var ui: WidgetStrings?

        enum CodingKeys: String, CodingKey { case token, userID = "user_id", ui }
    }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("chat-token", use: issue)
    }

    @Sendable
    func issue(_ req: Request) async throws -> Response {
        let credential = try auth.keyCredential(req)
        let query = try req.query.decode(Query.self)
        // A system defined through the admin API with origins of its own uses them instead.
        let policy = query.systemID.flatMap { auth.registry?.allowedOrigins(of: $0) }.map(OriginPolicy.init) ?? origins
        guard
            policy.permits(
                originHeader: req.headers.first(name: .origin), refererHeader: req.headers.first(name: .referer))
        else {
            throw AuthError.originNotAllowed
        }
        let caller = try auth.tokenSubject(req, systemID: query.systemID, userID: query.userID)
        if let keyID = credential.keyID { try await issuance.admit(keyID: keyID, req) }
        let dataKey = req.headers.first(name: "X-API-Key").flatMap { auth.registry?.key(presented: $0) }
        let token = try await tokens.issue(
            systemID: caller.systemID, userID: caller.userID, mintingKeyID: caller.rateKeyID,
            dataKeyID: dataKey?.id, notAfter: dataKey?.expiresAt)
        return Response(
            token: token, userID: caller.userID,
            ui: query.lang.flatMap { $0.isEmpty ? nil : WidgetStrings.forLanguage($0) })
    }
}
