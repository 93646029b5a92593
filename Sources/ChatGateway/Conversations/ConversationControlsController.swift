import Foundation
import Vapor

/// `DELETE /v1/conversations/{id}` and `POST /v1/conversations/{id}/name`.
struct ConversationControlsController: RouteCollection {
    let access: DifyAccess

    struct RenameRequest: Content {
        var name: String?
        var autoGenerate: Bool?

        enum CodingKeys: String, CodingKey { case name, autoGenerate = "auto_generate" }
    }

    func boot(routes: any RoutesBuilder) throws {
        let conversation = routes.grouped("conversations", ":conversation_id")
        conversation.delete(use: delete)
        conversation.post("name", use: rename)
    }

    @Sendable
    func delete(_ req: Request) async throws -> HTTPStatus {
        let (caller, conversationID) = try await resolve(req)
        try await access.deleteConversation(conversationID, of: caller)
        return .noContent
    }

    @Sendable
    func rename(_ req: Request) async throws -> ConversationSummary {
        let (caller, conversationID) = try await resolve(req)
        let body = try req.content.decode(RenameRequest.self)
        let autoGenerate = body.autoGenerate ?? false
        let name = body.name?.trimmingCharacters(in: .whitespacesAndNewlines)
        guard autoGenerate || !(name ?? "").isEmpty else { throw ChatError.nameRequired }
        guard (name ?? "").count <= 512 else { throw ChatError.nameTooLong(limit: 512) }
        let renamed = try await access.dify.renameConversation(
            conversationID, name: autoGenerate ? nil : name, autoGenerate: autoGenerate, user: caller.difyUser,
            at: try access.target(for: caller))
        try await access.store.renameConversation(conversationID, to: renamed.name, by: caller)
        return ConversationSummary(id: renamed.id, name: renamed.name, createdAt: renamed.createdAt)
    }

    private func resolve(_ req: Request) async throws -> (CallerIdentity, String) {
        let caller = try await access.auth.identityFromQueryOrBody(req)
        return (caller, try await access.conversation(try req.parameters.require("conversation_id"), of: caller))
    }
}
