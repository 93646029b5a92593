import Foundation
import Vapor

/// `GET /v1/conversations` and `GET /v1/conversations/{id}/messages`, read live from Dify (all pages).
struct ConversationsController: RouteCollection {
    let access: DifyAccess

    func boot(routes: any RoutesBuilder) throws {
        let conversations = routes.grouped("conversations")
        conversations.get(use: list)
        conversations.get(":conversation_id", "messages", use: messages)
    }

    @Sendable
    func list(_ req: Request) async throws -> [ConversationSummary] {
        let caller = try await access.auth.identityFromQueryOrBody(req)
        let target = try access.target(for: caller)
        return try await access.dify.allConversations(user: caller.difyUser, at: target)
            .map { ConversationSummary(id: $0.id, name: $0.name, createdAt: $0.createdAt) }
    }

    @Sendable
    func messages(_ req: Request) async throws -> [ConversationMessage] {
        let caller = try await access.auth.identityFromQueryOrBody(req)
        let target = try access.target(for: caller)
        let conversationID = try await access.conversation(try req.parameters.require("conversation_id"), of: caller)
        return try await access.dify.allMessages(conversationID: conversationID, user: caller.difyUser, at: target)
            .flatMap(ConversationMessage.rows(for:))
    }
}
