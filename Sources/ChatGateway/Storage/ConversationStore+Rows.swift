import Foundation

/// The rows a chat writes, and the statements they share with other chats' rows.
extension ConversationStore {
    static let userColumns = ["id", "system_id", "user_id", "dify_user", "created_at", "updated_at"]
    static let conversationColumns = ["id", "conversation_id", "system_id", "user_id", "dify_user", "created_at", "updated_at"]
    static let messageColumns = [
        "id", "message_id", "conversation_id", "system_id", "user_id", "role", "content", "status", "error", "task_id",
        "created_at", "updated_at",
    ]

    /// A (system, user) seen again only has its `updated_at` moved.
    static let user = RowUpsert.Shape(
        order: 0, table: ChatUser.schema, columns: userColumns, conflict: ["system_id", "user_id"], update: ["updated_at"])
    /// The user's message, stored before Dify is called. Written again (a batch retried job by job after part
    /// of it committed), it is left as it is; any other clash, such as a message id taken, is still an error.
    static let newMessage = RowUpsert.Shape(
        order: 1, table: StoredMessage.schema, columns: messageColumns, conflict: ["id"], update: [])
    /// A conversation is mapped to its owner once; later turns only move `updated_at`.
    static let conversation = RowUpsert.Shape(
        order: 2, table: StoredConversation.schema, columns: conversationColumns, conflict: ["conversation_id"], update: ["updated_at"])
    /// Dify acknowledged the user's message: it takes Dify's id and conversation.
    static let answeredMessage = RowUpsert.Shape(
        order: 3, table: StoredMessage.schema, columns: messageColumns, conflict: ["id"],
        update: ["message_id", "conversation_id", "status", "updated_at"])
    /// Dify refused or failed: the user's message stays, marked with the reason.
    static let failedMessage = RowUpsert.Shape(
        order: 4, table: StoredMessage.schema, columns: messageColumns, conflict: ["id"], update: ["status", "error", "updated_at"])
    /// An answer (or a stream's empty `streaming` row): written once, a repeat is ignored.
    static let startedAnswer = RowUpsert.Shape(
        order: 5, table: StoredMessage.schema, columns: messageColumns, conflict: ["message_id"], update: [])
    /// A stream's end: its text and final status replace the `streaming` row's.
    static let finishedAnswer = RowUpsert.Shape(
        order: 6, table: StoredMessage.schema, columns: messageColumns, conflict: ["message_id"],
        update: ["content", "status", "error", "updated_at"])

    static func userRow(_ caller: CallerIdentity, at stamp: Date) -> RowUpsert {
        RowUpsert(shape: user, key: "\(caller.systemID)\u{0}\(caller.userID)", values: [
            UUID.newRowID(), caller.systemID, caller.userID, caller.difyUser, stamp, stamp,
        ])
    }

    static func messageRow(_ message: MessageRecord, shape: RowUpsert.Shape) -> RowUpsert {
        let key = shape.conflict == ["message_id"] ? message.messageID : message.id.uuidString
        return RowUpsert(shape: shape, key: key, values: [
            message.id, message.messageID, message.conversationID, message.systemID, message.userID, message.role,
            message.content, message.status.rawValue, message.error, message.taskID, message.createdAt, message.updatedAt,
        ])
    }
}

/// One `gateway_messages` row as a chat writes it: plain values. Reads use `StoredMessage`; the chat path does not,
/// because a Fluent model keeps every field in a property wrapper of its own (a dozen allocations per message,
/// three messages per chat, ~4 % of the CPU per chat in the profile).
struct MessageRecord: Sendable, Equatable {
    var id = UUID.newRowID()
    var messageID: String
    var conversationID: String?
    var systemID: String
    var userID: String
    var role: String
    var content: String
    var status: StoredMessage.Status
    var error: String?
    var taskID: String?
    var createdAt: Date
    var updatedAt: Date

    init(messageID: String, conversationID: String?, systemID: String, userID: String, role: String, content: String,
         status: StoredMessage.Status, createdAt: Date) {
        self.messageID = messageID
        self.conversationID = conversationID
        self.systemID = systemID
        self.userID = userID
        self.role = role
        self.content = content
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }
}
