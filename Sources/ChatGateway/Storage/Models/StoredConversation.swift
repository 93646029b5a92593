import Fluent
import Foundation

/// A Dify conversation and the (system, user) it belongs to. The unique `conversation_id`
/// is the seed's "conversation mapping": one owner per conversation, written once.
final class StoredConversation: Model, @unchecked Sendable {
    static let schema = "gateway_conversations"

    @ID(key: .id) var id: UUID?
    @Field(key: "conversation_id") var conversationID: String
    @Field(key: "system_id") var systemID: String
    @Field(key: "user_id") var userID: String
    @Field(key: "dify_user") var difyUser: String
    @OptionalField(key: "name") var name: String?
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date
    /// Dify's own `updated_at`, so a later sync can skip unchanged conversations.
    @OptionalField(key: "dify_updated_at") var difyUpdatedAt: Date?
    @OptionalField(key: "synced_at") var syncedAt: Date?
    @OptionalField(key: "deleted_at") var deletedAt: Date?

    init() {}
}
