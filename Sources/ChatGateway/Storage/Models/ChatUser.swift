import Fluent
import Foundation

/// A (system, user) the gateway knows: registered by `POST /v1/chat` or by opening the chat page,
/// and the list the history sync walks.
final class ChatUser: Model, @unchecked Sendable {
    static let schema = "gateway_users"

    @ID(key: .id) var id: UUID?
    @Field(key: "system_id") var systemID: String
    @Field(key: "user_id") var userID: String
    @Field(key: "dify_user") var difyUser: String
    @Field(key: "created_at") var createdAt: Date
    @Field(key: "updated_at") var updatedAt: Date

    init() {}
}
