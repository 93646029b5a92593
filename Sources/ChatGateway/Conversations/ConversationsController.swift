import Foundation
import Vapor

/// `GET /v1/conversations` and `GET /v1/conversations/{id}/messages`, read live from Dify (all pages).
struct ConversationsController: RouteCollection {
    let access: DifyAccess
    let turns: TurnReaders

    func boot(routes: any RoutesBuilder) throws {
        let conversations = routes.grouped("conversations")
        conversations.get(use: list)
        conversations.get(":conversation_id", "messages", use: messages)
    }

    @Sendable
    func list(_ req: Request) async throws -> [ConversationSummary] {
        let caller = try await access.auth.identityFromQueryOrBody(req)
        let target = try access.target(for: caller)
        let running = try await turns.store.inProgress(systemID: caller.systemID, userID: caller.userID)
        return try await access.dify.allConversations(user: caller.difyUser, at: target).map { conversation in
            let turn = running.last { $0.conversationID == conversation.id }
            return ConversationSummary(
                id: conversation.id, name: conversation.name, createdAt: conversation.createdAt,
                turn: turn.flatMap { turn in
                    turn.id.map {
                        TurnInProgress(turnID: $0.uuidString.lowercased(), status: turn.turnStatus ?? "accepted")
                    }
                })
        }
    }

    @Sendable
    func messages(_ req: Request) async throws -> [ConversationMessage] {
        let caller = try await access.auth.identityFromQueryOrBody(req)
        let target = try access.target(for: caller)
        let conversationID = try await access.conversation(try req.parameters.require("conversation_id"), of: caller)
        var rows = try await access.dify.allMessages(
            conversationID: conversationID, user: caller.difyUser, at: target
        ).flatMap(ConversationMessage.rows(for:))
        let running = try await turns.store.inProgress(systemID: caller.systemID, userID: caller.userID)
        for turn in running where turn.conversationID == conversationID {
            guard let rowID = turn.id else { continue }
            try await rows.markInProgress(turn, id: rowID.uuidString.lowercased(), readers: turns)
        }
        return rows
    }
}

extension [ConversationMessage] {
    /// Marks a turn in progress on its rows, adding them (with the answer so far) where Dify does not list them yet.
    mutating func markInProgress(_ turn: StoredMessage, id turnID: String, readers: TurnReaders) async throws {
        let status = turn.turnStatus ?? TurnStatus.accepted.rawValue
        let (text, _) =
            if let log = readers.registry.turn(turnID)?.log { log.textSoFar } else {
                try await readers.store.textSoFar(of: turnID)
            }
        let createdAt = Int(turn.createdAt.timeIntervalSince1970)
        let userIndex =
            firstIndex { $0.id == turn.messageID }
            ?? {
                append(
                    ConversationMessage(id: turn.messageID, role: "user", content: turn.content, createdAt: createdAt))
                return count - 1
            }()
        self[userIndex].turnID = turnID
        self[userIndex].status = status
        let answerID = turn.messageID.hasSuffix("_user") ? String(turn.messageID.dropLast(5)) + "_assistant" : nil
        let answerIndex = answerID.flatMap { id in firstIndex { $0.id == id } }
        if let answerIndex {
            self[answerIndex].content = text
            self[answerIndex].turnID = turnID
            self[answerIndex].status = status
        } else {
            insert(
                ConversationMessage(
                    id: answerID ?? "\(turnID)_assistant", role: "assistant", content: text, createdAt: createdAt,
                    turnID: turnID, status: status),
                at: userIndex + 1)
        }
    }
}
