import Foundation
import SQLKit

/// One of the seed's tables: which columns to read, and what a page of its rows becomes in the gateway's tables.
protocol LegacyTableImport: Sendable {
    associatedtype Row: Sendable
    var table: String { get }
    /// Always with `id`, the key the pages are read by.
    var columns: [String] { get }
    /// Throws `LegacyRowProblem` for a row that cannot be imported.
    func decode(_ row: any SQLRow) throws -> Row
    /// What to write for a page, rows in `id` order, given what the gateway holds now.
    func plan(_ rows: [Row]) async throws -> LegacyPagePlan
}

/// A page's verdict: the rows to insert (each one new, so `rows.count` is what the page adds), and the rest.
struct LegacyPagePlan: Sendable {
    var rows = LegacyRowInsert.none
    var alreadyPresent = 0
    var skipped: [String: Int] = [:]

    mutating func skip(_ reason: String) { skipped[reason, default: 0] += 1 }
}

/// `sync_users` → `gateway_users`, the users the sync walks.
struct SyncUsersImport: LegacyTableImport {
    let gateway: GatewayRowLookup
    let stamp: Date
    var table: String { "sync_users" }
    var columns: [String] { ["id", "system_id", "user_id", "dify_user", "updated_at"] }

    func decode(_ row: any SQLRow) throws -> LegacySyncUser { try LegacySyncUser(row) }

    func plan(_ users: [LegacySyncUser]) async throws -> LegacyPagePlan {
        var known = try await gateway.userKeys(userIDs: users.map(\.owner.userID))
        var plan = LegacyPagePlan()
        var added: [UserWrite] = []
        for user in users {
            if known.insert(user.owner.key).inserted {
                added.append(LegacyImportRows.user(user, at: stamp))
            } else {
                plan.alreadyPresent += 1
            }
        }
        plan.rows = LegacyRowInsert(added, into: ChatUser.schema, uniqueOn: ["system_id", "user_id"])
        return plan
    }
}

/// `conversation_cache` → `gateway_conversations`, read before the mappings so that names and dates come along.
/// The conversation's first mapping, when it has one, names the owner (the first owner wins) and, for a row
/// without `created_at`, the time it began.
struct CachedConversationsImport: LegacyTableImport {
    let gateway: GatewayRowLookup
    let firstMappings: FirstMappingLookup?
    let stamp: Date
    var table: String { "conversation_cache" }
    var columns: [String] {
        ["id", "system_id", "user_id", "dify_user", "conversation_id", "name", "created_at", "synced_at"]
    }

    func decode(_ row: any SQLRow) throws -> LegacyConversation { try LegacyConversation(row) }

    func plan(_ conversations: [LegacyConversation]) async throws -> LegacyPagePlan {
        let ids = conversations.map(\.conversationID)
        var owners = try await gateway.conversationOwners(ids)
        let firstMappings = try await firstMappings?.mappings(of: ids) ?? [:]
        var plan = LegacyPagePlan()
        var added: [ConversationWrite] = []
        for conversation in conversations {
            guard owners[conversation.conversationID] == nil else {
                plan.alreadyPresent += 1
                continue
            }
            let firstMapping = firstMappings[conversation.conversationID]
            let owner = firstMapping?.owner ?? conversation.owner
            added.append(
                LegacyImportRows.conversation(conversation, owner: owner, startedAt: firstMapping?.createdAt, at: stamp)
            )
            owners[conversation.conversationID] = owner
        }
        plan.rows = LegacyRowInsert(added, into: StoredConversation.schema, uniqueOn: ["conversation_id"])
        return plan
    }
}

/// `conversation_mappings` → `gateway_conversations` for conversations the cache never saw. The table has no
/// unique key and real databases hold duplicates: the first mapping (lowest `id`) names the owner.
struct MappingsImport: LegacyTableImport {
    static let otherOwner = "owned by another user, the first mapping wins"

    static let mappingColumns = [
        "id", "system_id", "user_id", "dify_user", "conversation_id", "created_at", "updated_at",
    ]

    let gateway: GatewayRowLookup
    let stamp: Date
    var table: String { "conversation_mappings" }
    var columns: [String] { Self.mappingColumns }

    func decode(_ row: any SQLRow) throws -> LegacyConversation { try LegacyConversation(row) }

    func plan(_ mappings: [LegacyConversation]) async throws -> LegacyPagePlan {
        var owners = try await gateway.conversationOwners(mappings.map(\.conversationID))
        var plan = LegacyPagePlan()
        var added: [ConversationWrite] = []
        for mapping in mappings {
            if let owner = owners[mapping.conversationID] {
                if owner.isSameUser(as: mapping.owner) { plan.alreadyPresent += 1 } else { plan.skip(Self.otherOwner) }
                continue
            }
            added.append(LegacyImportRows.conversation(mapping, owner: mapping.owner, startedAt: nil, at: stamp))
            owners[mapping.conversationID] = mapping.owner
        }
        plan.rows = LegacyRowInsert(added, into: StoredConversation.schema, uniqueOn: ["conversation_id"])
        return plan
    }
}

/// `message_cache` → `gateway_messages`, owned by their conversation's owner. Runs last, when every
/// conversation the source knows is in the gateway's table.
struct CachedMessagesImport: LegacyTableImport {
    static let noOwner = "conversation has no known owner"

    let gateway: GatewayRowLookup
    let stamp: Date
    var table: String { "message_cache" }
    var columns: [String] { ["id", "conversation_id", "message_id", "role", "content", "created_at", "synced_at"] }

    func decode(_ row: any SQLRow) throws -> LegacyCachedMessage { try LegacyCachedMessage(row) }

    func plan(_ messages: [LegacyCachedMessage]) async throws -> LegacyPagePlan {
        var present = try await gateway.messageIDs(messages.map(\.messageID))
        let owners = try await gateway.conversationOwners(messages.compactMap(\.conversationID))
        var plan = LegacyPagePlan()
        var added: [MessageWrite] = []
        for message in messages {
            guard !present.contains(message.messageID) else {
                plan.alreadyPresent += 1
                continue
            }
            guard let conversationID = message.conversationID, let owner = owners[conversationID] else {
                plan.skip(Self.noOwner)
                continue
            }
            added.append(LegacyImportRows.message(message, conversationID: conversationID, owner: owner, at: stamp))
            present.insert(message.messageID)
        }
        plan.rows = LegacyRowInsert(added, into: StoredMessage.schema, uniqueOn: ["message_id"])
        return plan
    }
}

/// The first mapping of each conversation in the source, for conversations the cache also holds.
struct FirstMappingLookup: Sendable {
    let source: any SQLDatabase

    func mappings(of conversationIDs: [String]) async throws -> [String: LegacyConversation] {
        let distinct = Array(Set(conversationIDs))
        guard !distinct.isEmpty else { return [:] }
        let rows = try await source.select().columns(MappingsImport.mappingColumns).from("conversation_mappings").where(
            SQLColumn("conversation_id"), .in, SQLBind.group(distinct)
        )
        .orderBy("id").all()
        var first: [String: LegacyConversation] = [:]
        // A mapping that cannot be read is skipped here as it is when the mappings themselves are copied.
        for mapping in rows.compactMap({ try? LegacyConversation($0) }) where first[mapping.conversationID] == nil {
            first[mapping.conversationID] = mapping
        }
        return first
    }
}
