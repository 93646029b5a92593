import Fluent
import Foundation
import SQLKit

/// The gateway's record of users, conversations and messages. Writes are short single statements
/// or small transactions, so SQLite's one writer is never held across an upstream call.
struct ConversationStore: Sendable {
    let database: any Database
    let now: @Sendable () -> Date

    private var sql: any SQLDatabase { database as! any SQLDatabase }

    /// Upserts the (system, user) so the history sync knows about them.
    func registerUser(_ caller: CallerIdentity) async throws {
        let stamp = now()
        try await sql.insert(into: ChatUser.schema)
            .columns("id", "system_id", "user_id", "dify_user", "created_at", "updated_at")
            .values(SQLBind(UUID()), SQLBind(caller.systemID), SQLBind(caller.userID), SQLBind(caller.difyUser), SQLBind(stamp), SQLBind(stamp))
            .onConflict(with: ["system_id", "user_id"]) { $0.set(excludedValueOf: "updated_at") }
            .run()
    }

    /// Who owns a conversation the gateway has seen, if it has seen it.
    func owner(ofConversation conversationID: String) async throws -> (systemID: String, userID: String)? {
        guard let row = try await StoredConversation.query(on: database)
            .filter(\.$conversationID == conversationID).first() else { return nil }
        return (row.systemID, row.userID)
    }

    /// Stores the user's message before Dify is called, so nothing the user sent can be lost.
    /// A plain SQL insert: this is on every chat's critical path, and a Fluent model save spends
    /// most of its time reflecting over the model's properties.
    func recordPendingUserMessage(_ caller: CallerIdentity, conversationID: String?, content: String) async throws -> StoredMessage {
        let message = StoredMessage(
            messageID: "local-" + Self.randomHex(count: 12), conversationID: conversationID,
            systemID: caller.systemID, userID: caller.userID, role: "user", content: content,
            status: .pending, createdAt: now())
        message.id = UUID()
        try await sql.insert(into: StoredMessage.schema)
            .columns("id", "message_id", "conversation_id", "system_id", "user_id", "role", "content", "status", "created_at", "updated_at")
            .values(SQLBind(message.id!), SQLBind(message.messageID), SQLBind(conversationID), SQLBind(caller.systemID),
                    SQLBind(caller.userID), SQLBind("user"), SQLBind(content), SQLBind(StoredMessage.Status.pending.rawValue),
                    SQLBind(message.createdAt), SQLBind(message.createdAt))
            .run()
        return message
    }

    /// Maps the conversation to its owner (once: the unique key decides, not a select-then-insert),
    /// renames the pending message to Dify's id and stores the answer.
    func recordAnswer(_ answer: DifyChatAnswer, for pending: StoredMessage, caller: CallerIdentity) async throws {
        try await recordTurn(
            conversationID: answer.conversationID, messageID: answer.messageID, for: pending, caller: caller,
            answer: answer.answer, status: .complete, taskID: nil)
    }

    /// The first event of a stream named the conversation and message: record the turn with an empty
    /// assistant row marked `streaming`, so the conversation exists even if the gateway dies mid-answer.
    func recordStreamStarted(conversationID: String, messageID: String, taskID: String?, for pending: StoredMessage, caller: CallerIdentity) async throws {
        try await recordTurn(
            conversationID: conversationID, messageID: messageID, for: pending, caller: caller,
            answer: "", status: .streaming, taskID: taskID)
    }

    /// Stores what a stream produced, however it ended.
    func recordStreamFinished(messageID: String, answer: String, status: StoredMessage.Status, error: String?) async throws {
        var update = sql.update(StoredMessage.schema)
            .set("content", to: SQLBind(answer))
            .set("status", to: SQLBind(status.rawValue))
            .set("updated_at", to: SQLBind(now()))
        if let error { update = update.set("error", to: SQLBind(error)) }
        try await update.where("message_id", .equal, SQLBind("\(messageID)_assistant")).run()
    }

    private func recordTurn(
        conversationID: String, messageID: String, for pending: StoredMessage, caller: CallerIdentity,
        answer: String, status: StoredMessage.Status, taskID: String?
    ) async throws {
        let stamp = now()
        try await database.transaction { transaction in
            let sql = transaction as! any SQLDatabase
            try await sql.insert(into: StoredConversation.schema)
                .columns("id", "conversation_id", "system_id", "user_id", "dify_user", "created_at", "updated_at")
                .values(SQLBind(UUID()), SQLBind(conversationID), SQLBind(caller.systemID), SQLBind(caller.userID),
                        SQLBind(caller.difyUser), SQLBind(pending.createdAt), SQLBind(stamp))
                .onConflict(with: ["conversation_id"]) { $0.set(excludedValueOf: "updated_at") }
                .run()
            try await sql.update(StoredMessage.schema)
                .set("message_id", to: SQLBind("\(messageID)_user"))
                .set("conversation_id", to: SQLBind(conversationID))
                .set("status", to: SQLBind(StoredMessage.Status.complete.rawValue))
                .set("updated_at", to: SQLBind(stamp))
                .where("id", .equal, SQLBind(pending.id!))
                .run()
            try await sql.insert(into: StoredMessage.schema)
                .columns("id", "message_id", "conversation_id", "system_id", "user_id", "role", "content", "status", "task_id", "created_at", "updated_at")
                .values(SQLBind(UUID()), SQLBind("\(messageID)_assistant"), SQLBind(conversationID),
                        SQLBind(caller.systemID), SQLBind(caller.userID), SQLBind("assistant"), SQLBind(answer),
                        SQLBind(status.rawValue), SQLBind(taskID), SQLBind(stamp), SQLBind(stamp))
                .ignoringConflicts(with: ["message_id"])
                .run()
        }
    }

    /// Who a streamed answer's task belongs to, if the gateway recorded it.
    func owner(ofTask taskID: String) async throws -> (systemID: String, userID: String)? {
        guard let row = try await StoredMessage.query(on: database).filter(\.$taskID == taskID).first() else { return nil }
        return (row.systemID, row.userID)
    }

    /// Who a Dify message (one turn) belongs to, if the gateway recorded it.
    func owner(ofMessage messageID: String) async throws -> (systemID: String, userID: String)? {
        guard let row = try await StoredMessage.query(on: database)
            .filter(\.$messageID ~~ ["\(messageID)_user", "\(messageID)_assistant"]).first() else { return nil }
        return (row.systemID, row.userID)
    }

    /// Removes a conversation and its messages from the gateway's tables (after Dify deleted it).
    func deleteConversation(_ conversationID: String) async throws {
        try await database.transaction { transaction in
            try await StoredMessage.query(on: transaction).filter(\.$conversationID == conversationID).delete()
            try await StoredConversation.query(on: transaction).filter(\.$conversationID == conversationID).delete()
        }
    }

    /// Keeps a renamed conversation's name in step with Dify.
    func renameConversation(_ conversationID: String, to name: String?) async throws {
        try await sql.update(StoredConversation.schema)
            .set("name", to: SQLBind(name))
            .set("updated_at", to: SQLBind(now()))
            .where("conversation_id", .equal, SQLBind(conversationID))
            .run()
    }

    /// Keeps the user's message, marked failed with the reason.
    func recordFailure(_ reason: String, for pending: StoredMessage) async throws {
        try await sql.update(StoredMessage.schema)
            .set("status", to: SQLBind(StoredMessage.Status.failed.rawValue))
            .set("error", to: SQLBind(reason))
            .set("updated_at", to: SQLBind(now()))
            .where("id", .equal, SQLBind(pending.id!))
            .run()
    }

    static func randomHex(count: Int) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<count).map { _ in digits[Int.random(in: 0..<16)] })
    }
}
