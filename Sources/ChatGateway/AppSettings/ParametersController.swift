import Vapor

/// `GET /v1/parameters`: the caller's app as the chat page needs it (Dify's `/parameters`, without its moderation
/// settings), with the gateway's reading of its uploads and the system's `inline_math`.
struct ParametersController: RouteCollection {
    let features: AppFeatures

    func boot(routes: any RoutesBuilder) throws {
        routes.get("parameters", use: parameters)
    }

    @Sendable
    func parameters(_ req: Request) async throws -> Response {
        let caller = try await features.access.auth.identityFromQueryOrBody(req)
        let (_, app) = try await features.app(for: caller)
        var page = app.page
        if page["opening_statement"]?.stringValue == nil { page["opening_statement"] = .string("") }
        if page["suggested_questions"]?.arrayValue == nil { page["suggested_questions"] = .array([]) }
        page["inline_math"] = .bool(features.pages.inlineMath(of: caller.systemID))
        page["self_export"] = .bool(caller.isChatToken && features.pages.selfExport(of: caller.systemID))
        page["uploads"] = app.uploads.json
        page["audio_upload_limit"] = .number(Double(features.voiceLimit(app)))
        return Response.json(.object(page))
    }
}
