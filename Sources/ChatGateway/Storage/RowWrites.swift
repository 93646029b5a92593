import Foundation
import SQLKit

/// The values a write puts in a `gateway_users` row.
struct UserWrite: Encodable, Sendable {
    var id = UUID.newRowID()
    var systemID: String
    var userID: String
    var difyUser: String
    var createdAt: Date
    var updatedAt: Date

    enum CodingKeys: String, CodingKey {
        case id, systemID = "system_id", userID = "user_id", difyUser = "dify_user", createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// The values a write puts in a `gateway_conversations` row.
struct ConversationWrite: Encodable, Sendable {
    var id = UUID.newRowID()
    var conversationID: String
    var systemID: String
    var userID: String
    var difyUser: String
    var name: String? = nil
    var createdAt: Date
    var updatedAt: Date
    var difyUpdatedAt: Date? = nil
    var syncedAt: Date? = nil
    var deletedAt: Date? = nil
    /// How many webhook events it has had (their `sequence`); nil while none.
    var webhookSequence: Int? = nil

    enum CodingKeys: String, CodingKey {
        case id, conversationID = "conversation_id", systemID = "system_id", userID = "user_id", difyUser = "dify_user"
        case name, createdAt = "created_at", updatedAt = "updated_at", difyUpdatedAt = "dify_updated_at"
        case syncedAt = "synced_at", deletedAt = "deleted_at", webhookSequence = "webhook_sequence"
    }
}

/// The values a write puts in a `gateway_messages` row.
struct MessageWrite: Encodable, Sendable {
    var id = UUID.newRowID()
    var messageID: String
    var conversationID: String?
    var systemID: String
    var userID: String
    var role: String
    var content: String
    var status: StoredMessage.Status
    var error: String? = nil
    var taskID: String? = nil
    /// The turn's place in its conversation; it orders turns stored within the same instant.
    var position: Int = 0
    var createdAt: Date
    var updatedAt: Date
    /// Dify's usage of an answer (the ledger); nil for user messages and answers without it.
    var usage: DifyUsage? = nil
    /// A user message that starts a turn the gateway runs.
    var turn: TurnColumns? = nil
    /// An answer's sources (Dify's `retriever_resources`), as JSON text; nil when it cited none.
    var retrieverResources: String? = nil
    /// A user message's Dify `files`, as JSON text.
    var files: String? = nil
    /// On a question asked again: the Dify message id of its first attempt.
    var regenerates: String? = nil
    /// The wire a user's message came through (`/v1`, `page`, `/dify/v1`, `/openai/v1`), for webhooks.
    var channel: String? = nil

    struct TurnColumns: Sendable {
        var status: TurnStatus
        var holder: String
        var idempotency: IdempotencyRecord?
        /// `task` for a client's auxiliary request (a title, tags); nil for a chat.
        var kind: String? = nil
    }

    enum CodingKeys: String, CodingKey {
        case id, messageID = "message_id", conversationID = "conversation_id", systemID = "system_id", userID =
            "user_id"
        case role, content, status, error, taskID = "task_id", position, createdAt = "created_at", updatedAt =
            "updated_at"
        case promptTokens = "prompt_tokens", completionTokens = "completion_tokens", totalTokens = "total_tokens"
        case totalPrice = "total_price", totalPriceScaled = "total_price_scaled", currency, latencyMS = "latency_ms"
        case turnStatus = "turn_status", turnHolder = "turn_holder", idempotencyKey = "idempotency_key"
        case requestHash = "request_hash", turnKind = "turn_kind"
        case retrieverResources = "retriever_resources", files, regenerates, channel
    }

    /// The ledger's columns, which an answer's upsert replaces.
    static let usageColumns = [
        "prompt_tokens", "completion_tokens", "total_tokens", "total_price", "total_price_scaled", "currency",
        "latency_ms",
    ]

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(messageID, forKey: .messageID)
        try container.encodeIfPresent(conversationID, forKey: .conversationID)
        try container.encode(systemID, forKey: .systemID)
        try container.encode(userID, forKey: .userID)
        try container.encode(role, forKey: .role)
        try container.encode(content, forKey: .content)
        try container.encode(status, forKey: .status)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encodeIfPresent(taskID, forKey: .taskID)
        try container.encode(position, forKey: .position)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encodeIfPresent(usage?.promptTokens, forKey: .promptTokens)
        try container.encodeIfPresent(usage?.completionTokens, forKey: .completionTokens)
        try container.encodeIfPresent(usage?.totalTokens, forKey: .totalTokens)
        try container.encodeIfPresent(usage?.totalPriceText, forKey: .totalPrice)
        try container.encodeIfPresent(usage?.totalPriceScaled, forKey: .totalPriceScaled)
        try container.encodeIfPresent(usage?.totalPriceText == nil ? nil : usage?.currency, forKey: .currency)
        try container.encodeIfPresent(usage?.latencyMS, forKey: .latencyMS)
        try container.encodeIfPresent(turn?.status.rawValue, forKey: .turnStatus)
        try container.encodeIfPresent(turn?.holder, forKey: .turnHolder)
        try container.encodeIfPresent(turn?.idempotency?.keyHash, forKey: .idempotencyKey)
        try container.encodeIfPresent(turn?.idempotency?.requestHash, forKey: .requestHash)
        try container.encodeIfPresent(turn?.kind, forKey: .turnKind)
        try container.encodeIfPresent(retrieverResources, forKey: .retrieverResources)
        try container.encodeIfPresent(files, forKey: .files)
        try container.encodeIfPresent(regenerates, forKey: .regenerates)
        try container.encodeIfPresent(channel, forKey: .channel)
    }
}

extension SQLDatabase {
    /// Inserts `rows`; a row clashing on `conflict` takes the `update` columns of the new one, or, with none,
    /// stays as it is. Large batches go in statements of `chunk` rows (SQLite caps the values bound per statement).
    func upsert<Row: Encodable & Sendable>(
        _ rows: [Row], into table: String, onConflict conflict: [String], update: [String] = [], chunk: Int = 500
    ) async throws {
        for start in stride(from: 0, to: rows.count, by: chunk) {
            let insert = try self.insert(into: table)
                .models(Array(rows[start..<min(start + chunk, rows.count)]), nilEncodingStrategy: .asNil)
            if update.isEmpty {
                try await insert.ignoringConflicts(with: conflict).run()
            } else {
                try await insert.onConflict(with: conflict) { set in update.reduce(set) { $0.set(excludedValueOf: $1) }
                }.run()
            }
        }
    }
}
