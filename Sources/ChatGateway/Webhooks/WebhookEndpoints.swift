import Fluent
import Foundation
import SQLKit

/// A row of `gateway_webhook_endpoints`.
struct WebhookEndpointRow: Codable, Sendable, Equatable {
    var id: String
    var url: String
    /// nil: every system's events.
    var systemID: String?
    /// A JSON array of event types; empty: every type.
    var events: String
    var includeContent: Bool
    var description: String
    var enabled: Bool
    var disabledReason: String?
    /// Since when every attempt has failed (Unix seconds); nil after a success.
    var failingSince: Double?
    var secretSealed: String
    /// The secret before the last rotation, which signs beside the new one until `previousSecretUntil`.
    var previousSecretSealed: String?
    var previousSecretUntil: Double?
    var createdAt: Double
    var updatedAt: Double

    enum CodingKeys: String, CodingKey {
        case id, url, systemID = "system_id", events, includeContent = "include_content", description, enabled
        case disabledReason = "disabled_reason", failingSince = "failing_since", secretSealed = "secret_sealed"
        case previousSecretSealed = "previous_secret_sealed", previousSecretUntil = "previous_secret_until"
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    var eventTypes: [String] { AdminStore.list(fromText: events) }

    /// Whether the endpoint takes an event of `type` from `systemID` (an event for one endpoint goes to that one).
    func wants(type: String, systemID eventSystem: String?, onlyFor endpointID: String?) -> Bool {
        if let endpointID { return endpointID == id }
        if let systemID, systemID != eventSystem { return false }
        let types = eventTypes
        return types.isEmpty || types.contains(type)
    }

    /// `ep_` and a time-ordered UUID's 32 hex digits.
    static func newID(at date: Date) -> String { UUID.prefixedID("ep_", at: date) }
}

/// Endpoints and what was delivered to them. Changes go with their audit entry, in one transaction.
struct WebhookEndpointStore: Sendable {
    let admin: AdminStore

    private var sql: any SQLDatabase { admin.database() as! any SQLDatabase }

    func all() async throws -> [WebhookEndpointRow] {
        try await sql.select().column("*").from(WebhookTables.endpoints).orderBy("id")
            .all(decoding: WebhookEndpointRow.self)
    }

    func find(_ id: String) async throws -> WebhookEndpointRow? {
        try await sql.select().column("*").from(WebhookTables.endpoints).where("id", .equal, SQLBind(id))
            .first(decoding: WebhookEndpointRow.self)
    }

    func insert(_ row: WebhookEndpointRow, audit: AuditEntry) async throws {
        try await admin.change(audit) { sql in
            try await sql.insert(into: WebhookTables.endpoints).model(row, nilEncodingStrategy: .asNil).run()
        }
    }

    /// Sets only `columns` of the endpoint (another change made meanwhile, by the dispatcher or another operator,
    /// stays); the endpoint as it is then, or nil when there is none.
    func update(
        _ id: String, setting columns: [(String, any SQLExpression)], audit: AuditEntry
    ) async throws -> WebhookEndpointRow? {
        let columns = columns.map { ($0.0, SendableExpression(expression: $0.1)) }
        return try await admin.change(audit) { sql in
            var update = sql.update(WebhookTables.endpoints)
            for (column, value) in columns { update = update.set(SQLIdentifier(column), to: value.expression) }
            guard try await !update.where("id", .equal, SQLBind(id)).returning("id").all().isEmpty else { return nil }
            return try await sql.select().column("*").from(WebhookTables.endpoints).where("id", .equal, SQLBind(id))
                .first(decoding: WebhookEndpointRow.self)
        }
    }

    private struct SendableExpression: @unchecked Sendable {
        let expression: any SQLExpression
    }

    /// Removes the endpoint with its deliveries and attempts; false when there is none.
    func delete(_ id: String, audit: AuditEntry) async throws -> Bool {
        guard try await find(id) != nil else { return false }
        try await admin.change(audit) { sql in
            for table in [WebhookTables.attempts, WebhookTables.deliveries] {
                try await sql.delete(from: table).where("endpoint_id", .equal, SQLBind(id)).run()
            }
            try await sql.delete(from: WebhookTables.endpoints).where("id", .equal, SQLBind(id)).run()
        }
        return true
    }

    /// An event for this endpoint alone (`webhook.test`); its id.
    func send(_ event: WebhookEvent, at stamp: Date, audit: AuditEntry) async throws -> String? {
        try await admin.change(audit) { sql in try await WebhookOutbox.emit(event, at: stamp, on: sql) }
    }

    struct Stats: Sendable {
        var attempts = 0
        var succeeded = 0
        var pending = 0
        var failed = 0
    }

    /// Attempts since `since` and deliveries waiting or given up, per endpoint.
    func stats(since: Date) async throws -> [String: Stats] {
        var stats: [String: Stats] = [:]
        let attempts = try await sql.select().column("endpoint_id").column("result")
            .column(SQLAlias(SQLFunction("COUNT", args: SQLLiteral.all), as: "n"))
            .from(WebhookTables.attempts).where(
                "attempted_at", .greaterThanOrEqual, SQLBind(since.timeIntervalSince1970)
            )
            .groupBy("endpoint_id").groupBy("result").all()
        for row in attempts {
            let endpoint = try row.decode(column: "endpoint_id", as: String.self)
            let count = try row.decode(column: "n", as: Int.self)
            stats[endpoint, default: Stats()].attempts += count
            if try row.decode(column: "result", as: String.self) == "success" {
                stats[endpoint, default: Stats()].succeeded += count
            }
        }
        let deliveries = try await sql.select().column("endpoint_id").column("status")
            .column(SQLAlias(SQLFunction("COUNT", args: SQLLiteral.all), as: "n"))
            .from(WebhookTables.deliveries).where("status", .in, SQLBind.group(["pending", "failed"]))
            .groupBy("endpoint_id").groupBy("status").all()
        for row in deliveries {
            let endpoint = try row.decode(column: "endpoint_id", as: String.self)
            let count = try row.decode(column: "n", as: Int.self)
            if try row.decode(column: "status", as: String.self) == "pending" {
                stats[endpoint, default: Stats()].pending += count
            } else {
                stats[endpoint, default: Stats()].failed += count
            }
        }
        return stats
    }

    /// An endpoint's attempts, newest first; `before`: the id of the last attempt of the previous page.
    func attempts(of endpointID: String, limit: Int, before: String?) async throws -> [WebhookAttemptRow] {
        let after = before.map { SQLQueryString("AND a.id < \(bind: $0)") } ?? SQLQueryString("")
        return try await sql.raw(
            """
            SELECT a.id, a.endpoint_id, a.event_id, a.attempt, a.attempted_at, a.status_code, a.latency_ms, a.response, a.error, \
            a.result, e.type AS event_type, d.status AS delivery_status \
            FROM \(ident: WebhookTables.attempts) a \
            LEFT JOIN \(ident: WebhookTables.events) e ON e.id = a.event_id \
            LEFT JOIN \(ident: WebhookTables.deliveries) d ON d.event_id = a.event_id AND d.endpoint_id = a.endpoint_id \
            WHERE a.endpoint_id = \(bind: endpointID) \(after) ORDER BY a.id DESC LIMIT \(literal: limit)
            """
        ).all(decoding: WebhookAttemptRow.self)
    }

    /// Sends the events again from their first attempt, with their ids: each of `eventIDs` that is still kept, to
    /// the endpoint. How many were queued.
    func replay(_ eventIDs: [String], to endpointID: String, at stamp: Date, audit: AuditEntry) async throws -> Int {
        guard !eventIDs.isEmpty else { return 0 }
        return try await admin.change(audit) { sql in
            var count = 0
            for chunk in stride(from: 0, to: eventIDs.count, by: 500).map({
                Array(eventIDs[$0..<min($0 + 500, eventIDs.count)])
            }) {
                let events = try await sql.select().columns("id", "occurred_at").from(WebhookTables.events)
                    .where("id", .in, SQLBind.group(chunk)).all()
                let rows = try events.map { event in
                    WebhookDeliveryRow(
                        event: try event.decode(column: "id", as: String.self),
                        occurredAt: try event.decode(column: "occurred_at", as: Double.self), to: endpointID,
                        at: stamp.timeIntervalSince1970)
                }
                // The lease goes too: an attempt still running then records nothing over the replay.
                try await sql.upsert(
                    rows, into: WebhookTables.deliveries, onConflict: ["endpoint_id", "event_id"],
                    update: ["status", "attempts", "next_attempt_at", "lease_holder", "lease_expires_at", "updated_at"])
                count += rows.count
            }
            return count
        }
    }

    /// Whether the event is kept and is one the endpoint takes.
    func isDeliverable(_ eventID: String, to endpoint: WebhookEndpointRow) async throws -> Bool {
        try await targets(sql.select().where("id", .equal, SQLBind(eventID))).contains { $0.isWanted(by: endpoint) }
    }

    /// The kept events the endpoint takes that occurred since `since`.
    func events(for endpoint: WebhookEndpointRow, since: Date) async throws -> [String] {
        var query = sql.select().where("occurred_at", .greaterThanOrEqual, SQLBind(since.timeIntervalSince1970))
        if let systemID = endpoint.systemID { query = query.where("system_id", .equal, SQLBind(systemID)) }
        if !endpoint.eventTypes.isEmpty {
            query = query.where(
                "type", .in, SQLBind.group(endpoint.eventTypes + [WebhookEvent.Kind.webhookTest.rawValue]))
        }
        return try await targets(query.orderBy("id")).filter { $0.isWanted(by: endpoint) }.map(\.id)
    }

    private func targets(_ query: SQLSelectBuilder) async throws -> [WebhookQueue.EventTarget] {
        try await query.columns("id", "type", "system_id", "endpoint_id", "occurred_at").from(WebhookTables.events)
            .all(decoding: WebhookQueue.EventTarget.self)
    }
}

/// A row of `gateway_webhook_deliveries`: one event to one endpoint.
struct WebhookDeliveryRow: Codable, Sendable {
    var id: String
    var eventID: String
    var endpointID: String
    /// `pending`, `succeeded` or `failed` (its schedule ran out).
    var status: String
    var attempts: Int
    var nextAttemptAt: Double
    var leaseHolder: String? = nil
    var leaseExpiresAt: Double? = nil
    var lastStatusCode: Int? = nil
    var occurredAt: Double
    var updatedAt: Double

    enum CodingKeys: String, CodingKey {
        case id, eventID = "event_id", endpointID = "endpoint_id", status, attempts, nextAttemptAt = "next_attempt_at"
        case leaseHolder = "lease_holder", leaseExpiresAt = "lease_expires_at", lastStatusCode = "last_status_code"
        case occurredAt = "occurred_at", updatedAt = "updated_at"
    }
}

/// A row of `gateway_webhook_attempts`; listed, with its event's type and its delivery's status now.
struct WebhookAttemptRow: Codable, Sendable {
    var id: String
    var endpointID: String
    var eventID: String
    var attempt: Int
    var attemptedAt: Double
    var statusCode: Int?
    var latencyMS: Int
    var response: String
    var error: String?
    /// `WebhookSender.Result`'s raw value.
    var result: String
    var eventType: String? = nil
    var deliveryStatus: String? = nil

    enum CodingKeys: String, CodingKey {
        case id, endpointID = "endpoint_id", eventID = "event_id", attempt, attemptedAt = "attempted_at"
        case statusCode = "status_code", latencyMS = "latency_ms", response, error, result
        case eventType = "event_type", deliveryStatus = "delivery_status"
    }
}
