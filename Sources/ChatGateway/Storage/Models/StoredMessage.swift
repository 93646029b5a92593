import Fluent
import Foundation

/// One side of a turn. Ids follow the seed: `<dify message id>_user` / `<dify message id>_assistant`,
/// and `local-<hex>` for a user message Dify never acknowledged.
final class StoredMessage: Model, @unchecked Sendable {
    static let schema = "gateway_messages"

    enum Status: String, Codable, Sendable {
        /// Stored before the upstream call, waiting for Dify.
        case pending
        case complete
        /// Dify failed or timed out; `error` says how. The user's text is kept.
        case failed
    }

    @ID(key: .id) var id: UUID?
    @Field(key: "message_id") var messageID: String
    @OptionalField(key: "conversation_id") var conversationID: String?
    @Field(key: "system_id") var systemID: String
    @Field(key: "user_id") var userID: String
    @Field(key: "role") var role: String
    @Field(key: "content") var content: String
    @Field(key: "status") var status: Status
    @OptionalField(key: "error") var error: String?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}

    init(messageID: String, conversationID: String?, systemID: String, userID: String, role: String, content: String, status: Status, createdAt: Date) {
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
