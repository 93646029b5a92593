import Fluent
import SQLKit

/// Webhooks: endpoints as data (`gateway_webhook_endpoints`, secrets sealed); the outbox (`gateway_webhook_events`),
/// written in the transaction of the change an event tells of; one delivery per event and endpoint
/// (`gateway_webhook_deliveries`), claimed by a dispatcher under a lease; and every attempt
/// (`gateway_webhook_attempts`). The user's message keeps the channel its turn came through, and a conversation the
/// count of its events (`webhook_sequence`), for the events' `sequence`. The assistant's message keeps the rating
/// its user gave. Times are Unix seconds.
struct CreateWebhooks: AsyncMigration {
    func prepare(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        let seconds = SQLDataType.custom(SQLRaw("DOUBLE PRECISION"))
        try await sql.create(table: WebhookTables.endpoints)
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("url", type: .text, .notNull)
            .column("system_id", type: .text)
            .column("events", type: .text, .notNull)
            .column("include_content", type: .custom(SQLRaw("BOOLEAN")), .notNull)
            .column("description", type: .text, .notNull)
            .column("enabled", type: .custom(SQLRaw("BOOLEAN")), .notNull)
            .column("disabled_reason", type: .text)
            .column("failing_since", type: seconds)
            .column("secret_sealed", type: .text, .notNull)
            .column("previous_secret_sealed", type: .text)
            .column("previous_secret_until", type: seconds)
            .column("created_at", type: seconds, .notNull)
            .column("updated_at", type: seconds, .notNull)
            .run()
        try await sql.create(table: WebhookTables.events)
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("type", type: .text, .notNull)
            .column("system_id", type: .text)
            .column("user_id", type: .text)
            .column("conversation_id", type: .text)
            .column("endpoint_id", type: .text)
            .column("occurred_at", type: seconds, .notNull)
            .column("data", type: .text, .notNull)
            .column("content", type: .text)
            .column("dedupe_key", type: .text)
            .column("fanned_at", type: seconds)
            .run()
        try await sql.create(index: "gateway_webhook_events_dedupe").unique().on(WebhookTables.events)
            .column("dedupe_key").run()
        // Only the events waiting to be fanned out: the index stays as small as they are few.
        try await sql.raw(
            "CREATE INDEX gateway_webhook_events_waiting ON \(ident: WebhookTables.events) (occurred_at) WHERE fanned_at IS NULL"
        ).run()
        try await sql.create(index: "gateway_webhook_events_occurred").on(WebhookTables.events)
            .column("occurred_at").run()
        try await sql.create(table: WebhookTables.deliveries)
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("event_id", type: .text, .notNull)
            .column("endpoint_id", type: .text, .notNull)
            .column("status", type: .text, .notNull)
            .column("attempts", type: .bigint, .notNull)
            .column("next_attempt_at", type: seconds, .notNull)
            .column("lease_holder", type: .text)
            .column("lease_expires_at", type: seconds)
            .column("last_status_code", type: .bigint)
            .column("occurred_at", type: seconds, .notNull)
            .column("updated_at", type: seconds, .notNull)
            .run()
        try await sql.create(index: "gateway_webhook_deliveries_pair").unique().on(WebhookTables.deliveries)
            .column("endpoint_id").column("event_id").run()
        // Pruning asks, for each old event, whether a delivery still names it.
        try await sql.create(index: "gateway_webhook_deliveries_event").on(WebhookTables.deliveries)
            .column("event_id").run()
        try await sql.raw(
            "CREATE INDEX gateway_webhook_deliveries_due ON \(ident: WebhookTables.deliveries) (next_attempt_at) WHERE status = 'pending'"
        ).run()
        try await sql.create(table: WebhookTables.attempts)
            .column("id", type: .text, .primaryKey(autoIncrement: false))
            .column("endpoint_id", type: .text, .notNull)
            .column("event_id", type: .text, .notNull)
            .column("attempt", type: .bigint, .notNull)
            .column("attempted_at", type: seconds, .notNull)
            .column("status_code", type: .bigint)
            .column("latency_ms", type: .bigint, .notNull)
            .column("response", type: .text, .notNull)
            .column("error", type: .text)
            .column("result", type: .text, .notNull)
            .run()
        try await sql.create(index: "gateway_webhook_attempts_endpoint").on(WebhookTables.attempts)
            .column("endpoint_id").column("id").run()
        try await sql.create(index: "gateway_webhook_attempts_time").on(WebhookTables.attempts)
            .column("attempted_at").run()
        try await database.schema(StoredMessage.schema).field("channel", .string).update()
        for column in ["feedback_rating", "feedback_content"] {
            try await database.schema(StoredMessage.schema).field(.string(column), .string).update()
        }
        try await database.schema(StoredConversation.schema).field("webhook_sequence", .int64).update()
    }

    func revert(on database: any Database) async throws {
        let sql = database as! any SQLDatabase
        try await database.schema(StoredConversation.schema).deleteField("webhook_sequence").update()
        for column in ["feedback_content", "feedback_rating", "channel"] {
            try await database.schema(StoredMessage.schema).deleteField(.string(column)).update()
        }
        for table in [WebhookTables.attempts, WebhookTables.deliveries, WebhookTables.events, WebhookTables.endpoints] {
            try await sql.drop(table: table).run()
        }
    }
}
