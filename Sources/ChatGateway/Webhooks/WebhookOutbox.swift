import Foundation
import SQLKit

/// Writes events into the outbox, in the caller's transaction: an event exists exactly when the change it tells of
/// was committed. Nothing is written while no endpoint, enabled or not, could want the system's events.
enum WebhookOutbox {
    /// Whether an endpoint exists for `systemID`'s events (its own, or one for every system): nil when none does,
    /// else whether one of them takes content.
    static func wanted(bySystem systemID: String?, on sql: any SQLDatabase) async throws -> Bool? {
        var query = sql.select().column("include_content").from(WebhookTables.endpoints)
        if let systemID {
            query = query.where {
                $0.where("system_id", .is, SQLLiteral.null).orWhere("system_id", .equal, SQLBind(systemID))
            }
        }
        return try await query.orderBy("include_content", .descending).limit(1).first()?
            .decode(column: "include_content", as: Bool.self)
    }

    /// Inserts the event; with a conversation, numbers it in that conversation's count (`sequence`). Its content is
    /// kept only while an endpoint takes content. Its id; nil when no endpoint wants it, or its `dedupeKey` is
    /// taken already (a write run again after a commit it did not hear of emits nothing new, at the cost of a gap in
    /// the count).
    @discardableResult
    static func emit(_ event: WebhookEvent, at stamp: Date, on sql: any SQLDatabase) async throws -> String? {
        var keepsContent = true
        if event.endpointID == nil {
            guard let takesContent = try await wanted(bySystem: event.systemID, on: sql) else { return nil }
            keepsContent = takesContent
        }
        return try await insert(event, keepingContent: keepsContent, at: stamp, on: sql)
    }

    /// `emit` for a caller that has asked `wanted` already (once for several events).
    @discardableResult
    static func insert(
        _ event: WebhookEvent, keepingContent keepsContent: Bool, at stamp: Date, on sql: any SQLDatabase
    ) async throws -> String? {
        var event = event
        if let conversationID = event.conversationID {
            let row = try await sql.update(StoredConversation.schema)
                .set("webhook_sequence", to: SQLRaw("COALESCE(webhook_sequence, 0) + 1"))
                .where("conversation_id", .equal, SQLBind(conversationID))
                .returning("webhook_sequence").first()
            event.data["sequence"] = .integer(try row?.decode(column: "webhook_sequence", as: Int?.self))
        } else if event.kind.carriesSequence {
            event.data["sequence"] = .null
        }
        let row = EventRow(event, keepingContent: keepsContent, at: stamp)
        let inserted = try await sql.insert(into: WebhookTables.events).model(row, nilEncodingStrategy: .asNil)
            .ignoringConflicts(with: ["dedupe_key"]).returning("id").all()
        return inserted.isEmpty ? nil : row.id
    }

    /// A turn's write of its conversation (an upsert) and its events, in the fewest statements, since every chat
    /// makes them: the conversation's count moves by the events in the same upsert, which also tells whether it
    /// made the conversation (then `created` comes first, numbered 1). Without an endpoint for the system, just the
    /// upsert.
    static func upsert(
        _ conversation: ConversationWrite, created: WebhookEvent, then events: [WebhookEvent], at stamp: Date,
        on sql: any SQLDatabase
    ) async throws {
        guard let keepsContent = try await wanted(bySystem: conversation.systemID, on: sql) else {
            return try await sql.upsert(
                [conversation], into: StoredConversation.schema, onConflict: ["conversation_id"], update: ["updated_at"]
            )
        }
        var conversation = conversation
        conversation.webhookSequence = events.count + 1
        let table = StoredConversation.schema
        let upsert = try sql.insert(into: table).model(conversation, nilEncodingStrategy: .asNil)
            .onConflict(with: ["conversation_id"]) { update in
                update.set(excludedValueOf: "updated_at").set(
                    "webhook_sequence", to: SQLRaw("COALESCE(\(table).webhook_sequence, 0) + \(events.count)"))
            }
        guard let row = try await upsert.returning("id", "webhook_sequence").first() else { return }
        let isNew = try row.decode(column: "id", as: UUID.self) == conversation.id
        let last = try row.decode(column: "webhook_sequence", as: Int.self)
        let all = (isNew ? [created] : []) + events
        guard !all.isEmpty else { return }
        let rows = all.enumerated().map { index, event in
            var event = event
            event.data["sequence"] = .integer(last - all.count + 1 + index)
            return EventRow(event, keepingContent: keepsContent, at: stamp)
        }
        try await sql.insert(into: WebhookTables.events).models(rows, nilEncodingStrategy: .asNil)
            .ignoringConflicts(with: ["dedupe_key"]).run()
    }

    /// Deleted conversations' events keep their ids, not what was said.
    static func forgetContent(ofConversations conversationIDs: [String], on sql: any SQLDatabase) async throws {
        try await sql.update(WebhookTables.events).set("content", to: SQLLiteral.null)
            .where("conversation_id", .in, SQLBind.group(conversationIDs)).run()
    }

    /// A row of `gateway_webhook_events`.
    struct EventRow: Codable, Sendable {
        var id: String
        var type: String
        var systemID: String?
        var userID: String?
        var conversationID: String?
        var endpointID: String?
        var occurredAt: Double
        var data: String
        var content: String?
        var dedupeKey: String?

        enum CodingKeys: String, CodingKey {
            case id, type, systemID = "system_id", userID = "user_id", conversationID = "conversation_id"
            case endpointID = "endpoint_id", occurredAt = "occurred_at", data, content, dedupeKey = "dedupe_key"
        }

        init(_ event: WebhookEvent, keepingContent: Bool, at stamp: Date) {
            id = WebhookEvent.newID(at: stamp)
            type = event.kind.rawValue
            systemID = event.systemID
            userID = event.userID
            conversationID = event.conversationID
            endpointID = event.endpointID
            occurredAt = stamp.timeIntervalSince1970
            data = JSONValue.object(event.data).jsonText
            content = keepingContent ? event.content.map { JSONValue.object($0).jsonText } : nil
            dedupeKey = event.dedupeKey
        }

        /// The body an endpoint gets, the same bytes on every attempt.
        func body(includeContent: Bool) -> String {
            WebhookEvent.body(
                kind: type, occurredAt: Date(timeIntervalSince1970: occurredAt), data: Self.object(data),
                content: content.map(Self.object), includeContent: includeContent)
        }

        private static func object(_ text: String) -> [String: JSONValue] {
            (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))?.objectValue ?? [:]
        }
    }
}
