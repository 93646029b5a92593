import Fluent
import Foundation
import SQLKit

/// Where a delivery stands.
enum WebhookDeliveryStatus: String, Sendable {
    /// Waiting for its next attempt.
    case pending
    case succeeded
    /// Its schedule ran out, or it cannot be made.
    case failed
}

/// The outbox's tables as the dispatcher works them: new events fanned out into deliveries, due deliveries claimed
/// under a lease, each attempt recorded with the endpoint's health, and the old removed. Its writes go among the
/// store's, so on SQLite they wait for its one writer there; on PostgreSQL replicas take disjoint rows
/// (`FOR UPDATE SKIP LOCKED`).
struct WebhookQueue: Sendable {
    let store: ConversationStore
    let database: @Sendable () -> any Database
    let isPostgres: Bool
    let now: @Sendable () -> Date

    private var sql: any SQLDatabase { database() as! any SQLDatabase }

    /// One delivery taken by this process: `token` names the claim, so a claim that ran out and was taken again
    /// (here or elsewhere) is not written by the attempt that outlived it.
    struct Claim: Sendable {
        var id: String
        var eventID: String
        var endpointID: String
        var attempts: Int
        var token: String
    }

    func endpointsExist() async throws -> Bool {
        try await sql.select().column("id").from(WebhookTables.endpoints).limit(1).first() != nil
    }

    // MARK: Fan-out

    /// Turns new events into deliveries, one per enabled endpoint that wants each; how many events it took.
    func fanOut() async throws -> Int {
        guard
            try await sql.select().column("id").from(WebhookTables.events).where("fanned_at", .is, SQLLiteral.null)
                .limit(1).first() != nil
        else { return 0 }
        let stamp = now().timeIntervalSince1970
        let lock = isPostgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await store.write("webhook fan-out") { sql in
            let events = try await sql.raw(
                """
                SELECT id, type, system_id, endpoint_id, occurred_at FROM \(ident: WebhookTables.events) \
                WHERE fanned_at IS NULL ORDER BY occurred_at, id LIMIT 500\(unsafeRaw: lock)
                """
            ).all(decoding: EventTarget.self)
            guard !events.isEmpty else { return 0 }
            let endpoints = try await sql.select().column("*").from(WebhookTables.endpoints)
                .where("enabled", .equal, SQLBind(true)).all(decoding: WebhookEndpointRow.self)
            var deliveries: [WebhookDeliveryRow] = []
            for event in events {
                for endpoint in endpoints where event.isWanted(by: endpoint) {
                    deliveries.append(.init(event: event.id, occurredAt: event.occurredAt, to: endpoint.id, at: stamp))
                }
            }
            try await sql.upsert(deliveries, into: WebhookTables.deliveries, onConflict: ["endpoint_id", "event_id"])
            try await sql.update(WebhookTables.events).set("fanned_at", to: SQLBind(stamp))
                .where("id", .in, SQLBind.group(events.map(\.id))).run()
            return events.count
        }
    }

    /// What decides who gets an event.
    struct EventTarget: Codable, Sendable {
        var id: String
        var type: String
        var systemID: String?
        var endpointID: String?
        var occurredAt: Double

        enum CodingKeys: String, CodingKey {
            case id, type, systemID = "system_id", endpointID = "endpoint_id", occurredAt = "occurred_at"
        }

        func isWanted(by endpoint: WebhookEndpointRow) -> Bool {
            endpoint.wants(type: type, systemID: systemID, onlyFor: endpointID)
        }
    }

    // MARK: Claims

    /// Enabled endpoints with due deliveries no one holds (at most `limit` of them).
    func endpointsWithDueDeliveries(limit: Int) async throws -> [String] {
        let stamp = now().timeIntervalSince1970
        return try await sql.raw(
            """
            SELECT DISTINCT d.endpoint_id FROM \(ident: WebhookTables.deliveries) d \
            JOIN \(ident: WebhookTables.endpoints) e ON e.id = d.endpoint_id \
            WHERE d.status = 'pending' AND d.next_attempt_at <= \(bind: stamp) \
            AND (d.lease_expires_at IS NULL OR d.lease_expires_at < \(bind: stamp)) AND e.enabled = \(bind: true) \
            LIMIT \(literal: limit)
            """
        ).all().map { try $0.decode(column: "endpoint_id", as: String.self) }
    }

    /// Takes up to `limit` due deliveries of one endpoint under a new claim of `holder`'s, held `lease` seconds.
    func claim(_ limit: Int, of endpointID: String, holder: String, lease: TimeInterval) async throws -> [Claim] {
        let stamp = now().timeIntervalSince1970
        let token = "\(holder)/\(String.randomHex(bytes: 6))"
        let lock = isPostgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await store.write("webhook claim") { sql in
            try await sql.raw(
                """
                UPDATE \(ident: WebhookTables.deliveries) SET lease_holder = \(bind: token), \
                lease_expires_at = \(bind: stamp + lease) WHERE id IN (\
                SELECT id FROM \(ident: WebhookTables.deliveries) WHERE endpoint_id = \(bind: endpointID) \
                AND status = 'pending' AND next_attempt_at <= \(bind: stamp) \
                AND (lease_expires_at IS NULL OR lease_expires_at < \(bind: stamp)) \
                ORDER BY next_attempt_at LIMIT \(literal: limit)\(unsafeRaw: lock)) \
                AND (lease_expires_at IS NULL OR lease_expires_at < \(bind: stamp)) \
                RETURNING id, event_id, endpoint_id, attempts
                """
            ).all().map { row in
                Claim(
                    id: try row.decode(column: "id", as: String.self),
                    eventID: try row.decode(column: "event_id", as: String.self),
                    endpointID: try row.decode(column: "endpoint_id", as: String.self),
                    attempts: try row.decode(column: "attempts", as: Int.self), token: token)
            }
        }
    }

    /// The event and endpoint of a claim; nil when either is gone.
    func contents(
        of claim: Claim
    ) async throws -> (event: WebhookOutbox.EventRow, endpoint: WebhookEndpointRow)? {
        guard
            let event = try await sql.select().column("*").from(WebhookTables.events)
                .where("id", .equal, SQLBind(claim.eventID)).first(decoding: WebhookOutbox.EventRow.self),
            let endpoint = try await sql.select().column("*").from(WebhookTables.endpoints)
                .where("id", .equal, SQLBind(claim.endpointID)).first(decoding: WebhookEndpointRow.self)
        else { return nil }
        return (event, endpoint)
    }

    // MARK: Attempts

    /// The attempt, the delivery's next step and the endpoint's health, in one transaction: a success resets its
    /// failing time; `disables` may disable it, which emits `webhook.endpoint.disabled`.
    func record(
        _ outcome: WebhookSender.Outcome, retryIn: Double?, of claim: Claim, to endpoint: WebhookEndpointRow,
        disableAfter: TimeInterval
    ) async throws {
        let stamp = now()
        let at = stamp.timeIntervalSince1970
        let attempt = claim.attempts + 1
        let succeeded = outcome.result == .success
        let status: WebhookDeliveryStatus = succeeded ? .succeeded : retryIn == nil ? .failed : .pending
        let attemptRow = WebhookAttemptRow(
            id: UUID.newRowID(now: stamp).uuidString.lowercased(), endpointID: claim.endpointID,
            eventID: claim.eventID, attempt: attempt, attemptedAt: at, statusCode: outcome.statusCode,
            latencyMS: Int(outcome.latency.milliseconds), response: outcome.response, error: outcome.error,
            result: outcome.result.rawValue)
        try await store.write("webhook attempt") { sql in
            try await sql.insert(into: WebhookTables.attempts).model(attemptRow).run()
            try await sql.update(WebhookTables.deliveries)
                .set("status", to: SQLBind(status.rawValue)).set("attempts", to: SQLBind(attempt))
                .set("next_attempt_at", to: SQLBind(at + (retryIn ?? 0)))
                .set("lease_holder", to: SQLLiteral.null).set("lease_expires_at", to: SQLLiteral.null)
                .set("last_status_code", to: SQLBind(outcome.statusCode)).set("updated_at", to: SQLBind(at))
                .where("id", .equal, SQLBind(claim.id)).where("lease_holder", .equal, SQLBind(claim.token)).run()
            if succeeded {
                try await sql.update(WebhookTables.endpoints).set("failing_since", to: SQLLiteral.null)
                    .where("id", .equal, SQLBind(claim.endpointID)).run()
                return
            }
            let failingSince =
                try await sql.raw(
                    """
                    UPDATE \(ident: WebhookTables.endpoints) SET failing_since = COALESCE(failing_since, \(bind: at)) \
                    WHERE id = \(bind: claim.endpointID) RETURNING failing_since
                    """
                ).first()?.decode(column: "failing_since", as: Double?.self) ?? at
            let reason: String? =
                outcome.result == .gone
                ? "the endpoint answered 410 Gone"
                : at - failingSince >= disableAfter ? "every attempt failed for five days" : nil
            guard let reason else { return }
            try await Self.disable(endpoint, reason: reason, failingSince: failingSince, at: stamp, on: sql)
        }
    }

    private static func disable(
        _ endpoint: WebhookEndpointRow, reason: String, failingSince: Double, at stamp: Date, on sql: any SQLDatabase
    ) async throws {
        let disabled = try await sql.update(WebhookTables.endpoints)
            .set("enabled", to: SQLBind(false)).set("disabled_reason", to: SQLBind(reason))
            .set("updated_at", to: SQLBind(stamp.timeIntervalSince1970))
            .where("id", .equal, SQLBind(endpoint.id)).where("enabled", .equal, SQLBind(true))
            .returning("id").all()
        guard !disabled.isEmpty else { return }
        try await WebhookOutbox.emit(
            .endpointDisabled(endpoint, reason: reason, failingSince: failingSince), at: stamp, on: sql)
    }

    /// A delivery that cannot be made (its endpoint or event deleted) stops being tried.
    func giveUp(_ claim: Claim) async throws {
        let at = now().timeIntervalSince1970
        try await store.write("webhook give up") { sql in
            try await sql.update(WebhookTables.deliveries).set(
                "status", to: SQLBind(WebhookDeliveryStatus.failed.rawValue)
            )
            .set("lease_holder", to: SQLLiteral.null).set("lease_expires_at", to: SQLLiteral.null)
            .set("updated_at", to: SQLBind(at)).where("id", .equal, SQLBind(claim.id))
            .where("lease_holder", .equal, SQLBind(claim.token)).run()
        }
    }

    /// Gives a claim back untried (shutting down): it is due again at once, for any process.
    func release(_ claim: Claim) async throws {
        try await store.write("webhook release") { sql in
            try await sql.update(WebhookTables.deliveries).set("lease_holder", to: SQLLiteral.null)
                .set("lease_expires_at", to: SQLLiteral.null)
                .where("id", .equal, SQLBind(claim.id)).where("lease_holder", .equal, SQLBind(claim.token)).run()
        }
    }

    // MARK: Upkeep

    /// Deliveries waiting for enabled endpoints plus events not yet fanned out, and the age of the oldest of them.
    func depth() async throws -> (count: Int, oldestAge: Double) {
        var count = 0
        var oldest: Double?
        for query in [
            SQLQueryString(
                """
                SELECT COUNT(*) AS n, MIN(d.occurred_at) AS oldest FROM \(ident: WebhookTables.deliveries) d \
                JOIN \(ident: WebhookTables.endpoints) e ON e.id = d.endpoint_id \
                WHERE d.status = 'pending' AND e.enabled = \(bind: true)
                """),
            SQLQueryString(
                "SELECT COUNT(*) AS n, MIN(occurred_at) AS oldest FROM \(ident: WebhookTables.events) WHERE fanned_at IS NULL"
            ),
        ] {
            guard let row = try await sql.raw(query).first() else { continue }
            count += try row.decode(column: "n", as: Int.self)
            if let value = try row.decode(column: "oldest", as: Double?.self) { oldest = min(oldest ?? value, value) }
        }
        return (count, oldest.map { max(0, now().timeIntervalSince1970 - $0) } ?? 0)
    }

    /// Removes attempts, finished deliveries and events older than `keep`, a batch at a time so that chats' writes
    /// never wait long; an event that keeps a budget's period from telling twice stays `keepOnce` instead.
    func prune(keep: TimeInterval, keepOnce: TimeInterval) async throws {
        let at = now().timeIntervalSince1970
        let (before, onceBefore) = (at - keep, at - keepOnce)
        for statement in [
            SQLQueryString(
                """
                DELETE FROM \(ident: WebhookTables.attempts) WHERE id IN (SELECT id FROM \(ident: WebhookTables.attempts) \
                WHERE attempted_at < \(bind: before) LIMIT 1000) RETURNING id
                """),
            SQLQueryString(
                """
                DELETE FROM \(ident: WebhookTables.deliveries) WHERE id IN (SELECT id FROM \(ident: WebhookTables.deliveries) \
                WHERE status <> 'pending' AND updated_at < \(bind: before) LIMIT 1000) RETURNING id
                """),
            SQLQueryString(
                """
                DELETE FROM \(ident: WebhookTables.events) WHERE id IN (SELECT e.id FROM \(ident: WebhookTables.events) e \
                WHERE e.occurred_at < \(bind: before) AND (e.dedupe_key IS NULL OR e.occurred_at < \(bind: onceBefore)) \
                AND NOT EXISTS (SELECT 1 FROM \(ident: WebhookTables.deliveries) d WHERE d.event_id = e.id) LIMIT 1000) \
                RETURNING id
                """),
        ] {
            while try await store.write("webhook prune", returning: { sql in try await sql.raw(statement).all().count })
                == 1000
            {}
        }
    }
}

extension WebhookDeliveryRow {
    /// A new delivery of an event to an endpoint, due at once.
    init(event: String, occurredAt: Double, to endpointID: String, at stamp: Double) {
        self.init(
            id: UUID.newRowID().uuidString.lowercased(), eventID: event, endpointID: endpointID,
            status: WebhookDeliveryStatus.pending.rawValue, attempts: 0, nextAttemptAt: stamp, occurredAt: occurredAt,
            updatedAt: stamp)
    }
}
