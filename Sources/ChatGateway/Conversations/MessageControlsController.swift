import Foundation
import Vapor

/// `POST /v1/messages/{id}/feedbacks` and `GET /v1/messages/{id}/suggested`.
/// `{id}` is Dify's message id; the `<id>_assistant` / `<id>_user` ids of the history API work too.
struct MessageControlsController: RouteCollection {
    let access: DifyAccess

    struct FeedbackRequest: Content {
        /// "like", "dislike", or null to clear.
        var rating: String?
        var content: String?
    }

    struct Result: Content { var result: String }
    struct Suggestions: Content { var result: String; var data: [String] }

    func boot(routes: any RoutesBuilder) throws {
        let message = routes.grouped("messages", ":message_id")
        message.post("feedbacks", use: feedback)
        message.get("suggested", use: suggested)
    }

    @Sendable
    func feedback(_ req: Request) async throws -> Result {
        let (caller, messageID) = try await resolve(req)
        let body = try req.content.decode(FeedbackRequest.self)
        guard body.rating == nil || ["like", "dislike"].contains(body.rating!) else { throw ChatError.invalidRating }
        guard (body.content ?? "").count <= 8000 else { throw ChatError.feedbackTooLong(limit: 8000) }
        try await access.dify.sendFeedback(
            messageID: messageID, rating: body.rating, content: body.content, user: caller.difyUser,
            at: try access.target(for: caller))
        try await access.store.recordFeedback(
            ofMessage: messageID, rating: body.rating, reason: body.content, by: caller)
        return Result(result: "success")
    }

    @Sendable
    func suggested(_ req: Request) async throws -> Suggestions {
        let (caller, messageID) = try await resolve(req)
        let questions = try await access.dify.suggestedQuestions(
            messageID: messageID, user: caller.difyUser, at: try access.target(for: caller))
        return Suggestions(result: "success", data: questions)
    }

    private func resolve(_ req: Request) async throws -> (CallerIdentity, String) {
        let caller = try await access.auth.identityFromQueryOrBody(req)
        return (caller, try await access.message(try req.parameters.require("message_id"), of: caller))
    }

    static func difyMessageID(_ id: String) -> String {
        for suffix in ["_assistant", "_user"] where id.hasSuffix(suffix) { return String(id.dropLast(suffix.count)) }
        return id
    }
}
