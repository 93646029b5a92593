import Fluent
import Foundation
import SQLKit

/// The gateway's record of users, conversations and messages. Reads go straight to the database; every
/// write on a chat's path is a `RowUpsert` handed to a `RowWriter` (in the app: a `GroupCommitWriter`, so
/// concurrent chats share statements and SQLite's one writer is never held across an upstream call).
struct ConversationStore: Sendable {
    let database: any Database
    let writer: any RowWriter
    let now: @Sendable () -> Date

    /// `writer` defaults to writing each call's rows at once on `database`.
    init(database: any Database, writer: (any RowWriter)? = nil, now: @escaping @Sendable () -> Date) {
        self.database = database
        self.writer = writer ?? DirectRowWriter(database: database)
        self.now = now
    }

    private var sql: any SQLDatabase { database as! any SQLDatabase }

    /// Upserts the (system, user) so the history sync knows about them.
    func registerUser(_ caller: CallerIdentity) async throws {
        try await writer.write([Self.userRow(caller, at: now())])
    }

    /// Who owns a conversation the gateway has seen, if it has seen it.
    func owner(ofConversation conversationID: String) async throws -> (systemID: String, userID: String)? {
        guard let row = try await StoredConversation.query(on: database)
            .filter(\.$conversationID == conversationID).first() else { return nil }
        return (row.systemID, row.userID)
    }

    /// Stores the user's message before Dify is called, so nothing the user sent can be lost, and
    /// registers the (system, user) for the history sync in the same commit.
    func recordPendingUserMessage(_ caller: CallerIdentity, conversationID: String?, content: String) async throws -> MessageRecord {
        let stamp = now()
        let message = MessageRecord(
            messageID: Self.localMessageID(), conversationID: conversationID,
            systemID: caller.systemID, userID: caller.userID, role: "user", content: content,
            status: .pending, createdAt: stamp)
        try await writer.write([Self.userRow(caller, at: stamp), Self.messageRow(message, shape: Self.newMessage)])
        return message
    }

    /// Maps the conversation to its owner (once: the unique key decides, not a select-then-insert),
    /// renames the pending message to Dify's id and stores the answer.
    func recordAnswer(_ answer: DifyChatAnswer, for pending: MessageRecord, caller: CallerIdentity) async throws {
        try await writer.write(turnRows(
            conversationID: answer.conversationID, messageID: answer.messageID, for: pending, caller: caller,
            answer: answer.answer, status: .complete, taskID: nil))
    }

    /// The first event of a stream named the conversation and message: record the turn with an empty
    /// assistant row marked `streaming`, so the conversation exists even if the gateway dies mid-answer.
    func recordStreamStarted(conversationID: String, messageID: String, taskID: String?, for pending: MessageRecord, caller: CallerIdentity) async throws {
        try await writer.write(turnRows(
            conversationID: conversationID, messageID: messageID, for: pending, caller: caller,
            answer: "", status: .streaming, taskID: taskID))
    }

    /// Stores what a stream produced, however it ended (the whole row, so it is stored even if the start
    /// could not be).
    func recordStreamFinished(conversationID: String, messageID: String, taskID: String?, caller: CallerIdentity,
                              answer: String, status: StoredMessage.Status, error: String?) async throws {
        var row = MessageRecord(
            messageID: "\(messageID)_assistant", conversationID: conversationID, systemID: caller.systemID,
            userID: caller.userID, role: "assistant", content: answer, status: status, createdAt: now())
        row.error = error
        row.taskID = taskID
        try await writer.write([Self.messageRow(row, shape: Self.finishedAnswer)])
    }

    /// Keeps the user's message, marked failed with the reason.
    func recordFailure(_ reason: String, for pending: MessageRecord) async throws {
        var failed = pending
        failed.status = .failed
        failed.error = reason
        failed.updatedAt = now()
        try await writer.write([Self.messageRow(failed, shape: Self.failedMessage)])
    }

    private func turnRows(
        conversationID: String, messageID: String, for pending: MessageRecord, caller: CallerIdentity,
        answer: String, status: StoredMessage.Status, taskID: String?
    ) -> [RowUpsert] {
        let stamp = now()
        let conversation = RowUpsert(shape: Self.conversation, key: conversationID, values: [
            UUID.newRowID(), conversationID, caller.systemID, caller.userID, caller.difyUser, pending.createdAt, stamp,
        ])
        var question = pending
        question.messageID = "\(messageID)_user"
        question.conversationID = conversationID
        question.status = .complete
        question.updatedAt = stamp
        var reply = MessageRecord(
            messageID: "\(messageID)_assistant", conversationID: conversationID, systemID: caller.systemID,
            userID: caller.userID, role: "assistant", content: answer, status: status, createdAt: stamp)
        reply.taskID = taskID
        return [conversation, Self.messageRow(question, shape: Self.answeredMessage), Self.messageRow(reply, shape: Self.startedAnswer)]
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

    /// A placeholder id until Dify names the message: `local-` and 12 hex digits.
    static func localMessageID() -> String {
        "local-" + String.randomHex(bytes: 6)
    }
}
