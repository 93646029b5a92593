import Foundation
import Vapor

/// `GET /v1/conversations` and `GET /v1/conversations/{id}/messages`, read live from Dify (all pages).
struct ConversationsController: RouteCollection {
    let access: DifyAccess
    let turns: TurnReaders
    let pages: PageSettings

    func boot(routes: any RoutesBuilder) throws {
        let conversations = routes.grouped("conversations")
        conversations.get(use: list)
        conversations.get(":conversation_id", "messages", use: messages)
    }

    @Sendable
    func list(_ req: Request) async throws -> [ConversationSummary] {
        let caller = try await access.auth.identityFromQueryOrBody(req)
        let target = try access.target(for: caller)
        let running = try await turns.inProgress(for: caller)
        return try await access.dify.allConversations(user: caller.difyUser, at: target).map { conversation in
            let turn = running.last { $0.conversationID == conversation.id }
            return ConversationSummary(
                id: conversation.id, name: conversation.name, createdAt: conversation.createdAt,
                turn: turn.map { TurnInProgress(turnID: $0.id, status: $0.status.rawValue) })
        }
    }

    @Sendable
    func messages(_ req: Request) async throws -> [ConversationMessage] {
        let caller = try await access.auth.identityFromQueryOrBody(req)
        let target = try access.target(for: caller)
        let conversationID = try await access.conversation(try req.parameters.require("conversation_id"), of: caller)
        let listing = MessageListing(
            notes: try await access.store.turnNotes(ofConversation: conversationID),
            links: pages.sourceLinks(of: caller.systemID))
        var rows = listing.rows(
            for: try await access.dify.allMessages(conversationID: conversationID, user: caller.difyUser, at: target))
        for turn in try await turns.inProgress(for: caller) where turn.conversationID == conversationID {
            rows.markInProgress(turn, text: try await turns.textSoFar(of: turn.id).text)
        }
        return rows
    }
}

extension [ConversationMessage] {
    /// Marks a turn in progress on its rows, adding them (with the answer so far) where Dify does not list them yet.
    /// A question asked again is its first attempt's newest answer, not a question of its own.
    mutating func markInProgress(_ turn: InProgressTurn, text: String) {
        let createdAt = Int(turn.createdAt.timeIntervalSince1970)
        let answerID = "\(turn.messageID ?? turn.id)_assistant"
        if let first = turn.regenerates.map({ "\($0)_assistant" }),
            let index = lastIndex(where: { $0.id == first || $0.siblings?.contains { $0.id == first } == true })
        {
            var attempts = (self[index].siblings ?? [self[index]]).filter { $0.id != answerID }
            let answer = ConversationMessage(
                id: answerID, role: "assistant", content: text, createdAt: createdAt, turnID: turn.id,
                status: turn.status.rawValue)
            attempts.append(answer)
            self[index] = answer
            self[index].siblings = attempts
            return
        }
        let userIndex =
            firstIndex { $0.id == turn.userRowID }
            ?? {
                append(
                    ConversationMessage(id: turn.userRowID, role: "user", content: turn.question, createdAt: createdAt))
                return count - 1
            }()
        self[userIndex].turnID = turn.id
        self[userIndex].status = turn.status.rawValue
        if let answerIndex = firstIndex(where: { $0.id == answerID }) {
            self[answerIndex].content = text
            self[answerIndex].turnID = turn.id
            self[answerIndex].status = turn.status.rawValue
        } else {
            insert(
                ConversationMessage(
                    id: answerID, role: "assistant", content: text, createdAt: createdAt, turnID: turn.id,
                    status: turn.status.rawValue),
                at: userIndex + 1)
        }
    }
}
