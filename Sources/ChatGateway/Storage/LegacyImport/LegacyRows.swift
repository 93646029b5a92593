import Foundation
import SQLKit

/// Who a legacy row belongs to. The seed keyed everything by (system_id, user_id) and Dify's `user`.
struct LegacyOwner: Sendable, Equatable {
    let systemID: String
    let userID: String
    let difyUser: String

    /// `gateway_users` is unique on (system_id, user_id); this is that key as one string.
    var key: String { "\(systemID)\u{0}\(userID)" }

    func isSameUser(as other: LegacyOwner) -> Bool { systemID == other.systemID && userID == other.userID }

    init(systemID: String, userID: String, difyUser: String?) {
        self.systemID = systemID
        self.userID = userID
        // The seed always wrote it; should a row lack it, Dify's `user` was built this way.
        self.difyUser = difyUser ?? "\(systemID)_\(userID)"
    }

    init(_ row: any SQLRow) throws {
        self.init(
            systemID: try row.requiredText("system_id"), userID: try row.requiredText("user_id"),
            difyUser: row.optionalText("dify_user"))
    }
}

/// A legacy row that cannot be imported; `reason` is what the report counts it under.
struct LegacyRowProblem: Error {
    let reason: String
}

/// `sync_users`: registered when the chat page was opened.
struct LegacySyncUser: Sendable {
    let owner: LegacyOwner
    let updatedAt: Date?

    init(_ row: any SQLRow) throws {
        owner = try LegacyOwner(row)
        updatedAt = LegacyTimestamp.decode(row, column: "updated_at")
    }
}

/// A row of `conversation_cache` (a conversation as the chat or the sync last saw it: `name`, `synced_at`) or of
/// `conversation_mappings` (written by every chat, duplicates included: `updated_at`; `summary` was never used).
/// The columns one table lacks read as nil.
struct LegacyConversation: Sendable {
    let conversationID: String
    let owner: LegacyOwner
    let name: String?
    let createdAt: Date?
    let updatedAt: Date?
    let syncedAt: Date?

    init(_ row: any SQLRow) throws {
        conversationID = try row.requiredText("conversation_id")
        owner = try LegacyOwner(row)
        name = row.optionalText("name")
        createdAt = LegacyTimestamp.decode(row, column: "created_at")
        updatedAt = LegacyTimestamp.decode(row, column: "updated_at")
        syncedAt = LegacyTimestamp.decode(row, column: "synced_at")
    }
}

/// `message_cache`: one side of a turn, `<dify id>_user` / `<dify id>_assistant` or `local-<hex>`.
struct LegacyCachedMessage: Sendable {
    /// The row's `id` in the seed's table, which follows the order the turns were cached in.
    let legacyID: Int
    let messageID: String
    let conversationID: String?
    let role: String
    let content: String
    let createdAt: Date?
    let syncedAt: Date?

    init(_ row: any SQLRow) throws {
        legacyID = (try? row.decode(column: "id", as: Int.self)) ?? 0
        messageID = try row.requiredText("message_id")
        conversationID = row.optionalText("conversation_id")
        role = try row.requiredText("role")
        content = row.optionalText("content") ?? ""
        createdAt = LegacyTimestamp.decode(row, column: "created_at")
        syncedAt = LegacyTimestamp.decode(row, column: "synced_at")
    }
}

extension SQLRow {
    /// A column the gateway's row cannot do without: NULL or empty makes the row a skipped one.
    func requiredText(_ column: String) throws -> String {
        guard let text = optionalText(column), !text.isEmpty else { throw LegacyRowProblem(reason: "no \(column)") }
        return text
    }

    func optionalText(_ column: String) -> String? {
        (try? decode(column: column, as: String?.self)) ?? nil
    }
}
