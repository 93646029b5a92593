import Foundation
import Vapor

/// What one sync run did. `conversations_synced`, `messages_synced` and `errors` are the seed's fields.
struct SyncReport: Content, Equatable {
    struct UserError: Content, Equatable {
        var systemID: String
        var userID: String
        var detail: String

        enum CodingKeys: String, CodingKey { case systemID = "system_id", userID = "user_id", detail }
    }

    var users = 0
    /// Conversations whose messages were fetched and written (new or changed in Dify).
    var conversationsSynced = 0
    /// Conversations unchanged since the last run (same Dify `updated_at`): not fetched again.
    var conversationsSkipped = 0
    /// Conversations the gateway knew that Dify no longer lists: marked deleted.
    var conversationsDeleted = 0
    var messagesAdded = 0
    var messagesUpdated = 0
    var errors: [UserError] = []
    /// ISO 8601, UTC.
    var startedAt: String
    var durationMS: Int64 = 0

    /// The seed's count: message rows written by this run.
    var messagesSynced = 0

    init(startedAt: Date) { self.startedAt = ISO8601.string(startedAt) }

    mutating func add(_ other: UserSyncCounts) {
        conversationsSynced += other.conversationsSynced
        conversationsSkipped += other.conversationsSkipped
        conversationsDeleted += other.conversationsDeleted
        messagesAdded += other.messagesAdded
        messagesUpdated += other.messagesUpdated
        messagesSynced = messagesAdded + messagesUpdated
    }

    enum CodingKeys: String, CodingKey {
        case users, errors
        case conversationsSynced = "conversations_synced", conversationsSkipped = "conversations_skipped"
        case conversationsDeleted = "conversations_deleted", messagesAdded = "messages_added"
        case messagesUpdated = "messages_updated", messagesSynced = "messages_synced"
        case startedAt = "started_at", durationMS = "duration_ms"
    }
}

/// One user's share of a run.
struct UserSyncCounts: Sendable, Equatable {
    var conversationsSynced = 0
    var conversationsSkipped = 0
    var conversationsDeleted = 0
    var messagesAdded = 0
    var messagesUpdated = 0
}
