import Fluent
import Foundation
import Logging
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// Delivers the outbox: fans each new event out to the endpoints that want it (a delivery per endpoint), then claims
/// due deliveries under a lease and sends them, as many at once as `concurrency`. Every replica runs one; on
/// PostgreSQL they take disjoint rows (`FOR UPDATE SKIP LOCKED`), and a claim outlives any attempt (15 s), so one
/// delivery is never in flight from two processes; a process that dies leaves its claims to the others once the
/// lease has run out. Its writes go among the store's, so on SQLite they wait for its one writer there.
final class WebhookDispatcher: LifecycleHandler, Sendable {
    struct Configuration: Sendable {
        var schedule: WebhookRetrySchedule
        var isPostgres: Bool
        /// This process, as the holder of its claims.
        var holder: String
        var lease: TimeInterval = 30
        var concurrency = 16
        /// How often to look for work when there was none.
        var idleInterval: Duration = .milliseconds(250)
        /// An endpoint failing for this long is disabled.
        var disableAfter: TimeInterval = 5 * 86_400
        /// Events and attempts older than this, done with, are removed.
        var keep: TimeInterval = 30 * 86_400
    }

    let store: ConversationStore
    let database: @Sendable () -> any Database
    let sender: WebhookSender
    let sealer: SecretSealer?
    let configuration: Configuration
    let metrics: GatewayMetrics
    let now: @Sendable () -> Date
    let logger: Logger
    private let loop = NIOLockedValueBox<Task<Void, Never>?>(nil)
    private let running = NIOLockedValueBox<[String: Task<Void, Never>]>([:])
    /// Whether any endpoint exists, and when that was read: a gateway without webhooks reads it now and then only.
    private let endpointsSeen = NIOLockedValueBox<(exist: Bool, at: ContinuousClock.Instant)?>(nil)

    init(
        store: ConversationStore, database: @escaping @Sendable () -> any Database, sender: WebhookSender,
        sealer: SecretSealer?, configuration: Configuration, metrics: GatewayMetrics,
        now: @escaping @Sendable () -> Date, logger: Logger
    ) {
        self.store = store
        self.database = database
        self.sender = sender
        self.sealer = sealer
        self.configuration = configuration
        self.metrics = metrics
        self.now = now
        self.logger = logger
    }

    private var sql: any SQLDatabase { database() as! any SQLDatabase }
    private var skipLocked: String { configuration.isPostgres ? " FOR UPDATE SKIP LOCKED" : "" }

    func didBootAsync(_ application: Application) async throws {
        guard ChatGatewayEntrypoint.isServing(application.environment) else { return }
        loop.withLockedValue { $0 = Task { await self.run() } }
    }

    func shutdownAsync(_ application: Application) async {
        guard let task = loop.withLockedValue({ $0 }) else { return }
        task.cancel()
        await task.value
        for delivery in running.withLockedValue({ Array($0.values) }) {
            delivery.cancel()
            await delivery.value
        }
    }

    private func run() async {
        var pruned = ContinuousClock.now - .seconds(3_600)
        var measured: ContinuousClock.Instant?
        while !Task.isCancelled {
            let worked = await step()
            if measured.map({ ContinuousClock.now - $0 >= .seconds(5) }) ?? true,
                endpointsSeen.withLockedValue({ $0?.exist == true })
            {
                await measureQueue()
                measured = .now
            }
            if ContinuousClock.now - pruned >= .seconds(600) {
                await prune()
                pruned = .now
            }
            if !worked {
                do { try await Task.sleep(for: configuration.idleInterval) } catch { return }
            }
        }
    }

    /// An endpoint was made or changed here: look again at once.
    func endpointsChanged() {
        endpointsSeen.withLockedValue { $0 = nil }
    }

    private func endpointsExist() async throws -> Bool {
        if let seen = endpointsSeen.withLockedValue({ $0 }),
            ContinuousClock.now - seen.at < (seen.exist ? .seconds(30) : .seconds(2))
        {
            return seen.exist
        }
        let exist = try await sql.select().column("id").from(WebhookTables.endpoints).limit(1).first() != nil
        endpointsSeen.withLockedValue { $0 = (exist, .now) }
        return exist
    }

    /// One round: fan out, claim and start. Whether there was anything to do.
    func step() async -> Bool {
        do {
            guard try await endpointsExist() else { return false }
            let fanned = try await fanOut()
            let free = configuration.concurrency - running.withLockedValue { $0.count }
            let claimed = free > 0 ? try await claim(free) : []
            for delivery in claimed { start(delivery) }
            return fanned > 0 || !claimed.isEmpty
        } catch {
            logger.warning("webhook dispatch failed a round", metadata: ["error": .string("\(type(of: error))")])
            return false
        }
    }

    /// Waits until no delivery this process started is still running (tests).
    func drain() async {
        for delivery in running.withLockedValue({ Array($0.values) }) { await delivery.value }
    }

    // MARK: Fan-out

    /// Turns new events into deliveries, one per endpoint that wants each; how many events it took.
    private func fanOut() async throws -> Int {
        guard
            try await sql.select().column("id").from(WebhookTables.events).where("fanned_at", .is, SQLLiteral.null)
                .limit(1).first() != nil
        else { return 0 }
        let stamp = now().timeIntervalSince1970
        let lock = skipLocked
        return try await store.write("webhook fan-out") { sql in
            let events = try await sql.raw(
                """
                SELECT id, type, system_id, endpoint_id, occurred_at FROM \(ident: WebhookTables.events) \
                WHERE fanned_at IS NULL ORDER BY occurred_at, id LIMIT 500\(unsafeRaw: lock)
                """
            ).all()
            guard !events.isEmpty else { return 0 }
            let endpoints = try await sql.select().column("*").from(WebhookTables.endpoints)
                .where("enabled", .equal, SQLBind(true)).all(decoding: WebhookEndpointRow.self)
            var deliveries: [WebhookDeliveryRow] = []
            var ids: [String] = []
            for event in events {
                let id = try event.decode(column: "id", as: String.self)
                let type = try event.decode(column: "type", as: String.self)
                let systemID = try event.decode(column: "system_id", as: String?.self)
                let only = try event.decode(column: "endpoint_id", as: String?.self)
                let occurredAt = try event.decode(column: "occurred_at", as: Double.self)
                ids.append(id)
                for endpoint in endpoints where endpoint.wants(type: type, systemID: systemID, onlyFor: only) {
                    deliveries.append(
                        WebhookDeliveryRow(
                            id: UUID.newRowID().uuidString.lowercased(), eventID: id, endpointID: endpoint.id,
                            status: "pending", attempts: 0, nextAttemptAt: stamp, occurredAt: occurredAt,
                            updatedAt: stamp))
                }
            }
            try await sql.upsert(deliveries, into: WebhookTables.deliveries, onConflict: ["endpoint_id", "event_id"])
            try await sql.update(WebhookTables.events).set("fanned_at", to: SQLBind(stamp))
                .where("id", .in, SQLBind.group(ids)).run()
            return events.count
        }
    }

    // MARK: Claims

    struct Claim: Sendable {
        var id: String
        var eventID: String
        var endpointID: String
        var attempts: Int
    }

    /// Takes up to `limit` due deliveries of enabled endpoints under this process's lease.
    private func claim(_ limit: Int) async throws -> [Claim] {
        let stamp = now().timeIntervalSince1970
        let due =
            try await sql.select().column("id").from(WebhookTables.deliveries)
            .where("status", .equal, SQLBind("pending")).where("next_attempt_at", .lessThanOrEqual, SQLBind(stamp))
            .where {
                $0.where("lease_expires_at", .is, SQLLiteral.null).orWhere(
                    "lease_expires_at", .lessThan, SQLBind(stamp))
            }
            .limit(1).first() != nil
        guard due else { return [] }
        let (holder, until, lock) = (configuration.holder, stamp + configuration.lease, skipLocked)
        return try await store.write("webhook claim") { sql in
            try await sql.raw(
                """
                UPDATE \(ident: WebhookTables.deliveries) SET lease_holder = \(bind: holder), \
                lease_expires_at = \(bind: until) WHERE id IN (\
                SELECT d.id FROM \(ident: WebhookTables.deliveries) d \
                JOIN \(ident: WebhookTables.endpoints) e ON e.id = d.endpoint_id \
                WHERE d.status = 'pending' AND d.next_attempt_at <= \(bind: stamp) \
                AND (d.lease_expires_at IS NULL OR d.lease_expires_at < \(bind: stamp)) AND e.enabled = \(bind: true) \
                ORDER BY d.next_attempt_at LIMIT \(bind: limit)\(unsafeRaw: lock.isEmpty ? "" : " FOR UPDATE OF d SKIP LOCKED")) \
                AND (lease_expires_at IS NULL OR lease_expires_at < \(bind: stamp)) \
                RETURNING id, event_id, endpoint_id, attempts
                """
            ).all().map { row in
                Claim(
                    id: try row.decode(column: "id", as: String.self),
                    eventID: try row.decode(column: "event_id", as: String.self),
                    endpointID: try row.decode(column: "endpoint_id", as: String.self),
                    attempts: try row.decode(column: "attempts", as: Int.self))
            }
        }
    }

    private func start(_ claim: Claim) {
        running.withLockedValue { running in
            running[claim.id] = Task {
                await self.deliver(claim)
                _ = self.running.withLockedValue { $0.removeValue(forKey: claim.id) }
            }
        }
    }

    // MARK: Delivery

    private func deliver(_ claim: Claim) async {
        do {
            guard
                let event = try await sql.select().column("*").from(WebhookTables.events)
                    .where("id", .equal, SQLBind(claim.eventID)).first(decoding: WebhookOutbox.EventRow.self),
                let endpoint = try await sql.select().column("*").from(WebhookTables.endpoints)
                    .where("id", .equal, SQLBind(claim.endpointID)).first(decoding: WebhookEndpointRow.self)
            else {
                try await giveUp(claim, reason: "its event or endpoint is gone")
                return
            }
            guard let sealer, let secret = sealer.open(endpoint.secretSealed) else {
                let unsigned = WebhookSender.Outcome(
                    result: .refused, latency: .zero,
                    error:
                        "the endpoint's secret cannot be opened with CHAT_GATEWAY_ENCRYPTION_KEY: it was sealed under another key"
                )
                metrics.webhookDelivery(result: unsigned.result.rawValue, duration: unsigned.latency)
                try await record(unsigned, of: claim, to: endpoint)
                return
            }
            let stamp = now()
            var secrets = [secret]
            if let until = endpoint.previousSecretUntil, until > stamp.timeIntervalSince1970,
                let sealed = endpoint.previousSecretSealed, let previous = sealer.open(sealed)
            {
                secrets.append(previous)
            }
            let body = WebhookEvent.body(
                kind: event.type, occurredAt: Date(timeIntervalSince1970: event.occurredAt),
                data: Self.object(event.data), content: event.content.map(Self.object),
                includeContent: endpoint.includeContent)
            let timestamp = Int(stamp.timeIntervalSince1970)
            let outcome = await sender.send(
                .init(
                    url: endpoint.url, eventID: event.id, timestamp: timestamp, body: body,
                    signature: WebhookSignature.header(id: event.id, timestamp: timestamp, body: body, secrets: secrets)
                ),
                now: stamp)
            if Task.isCancelled, outcome.result != .success {
                // Shutting down: another process (or this one, restarted) sends it again.
                try await release(claim)
                return
            }
            metrics.webhookDelivery(result: outcome.result.rawValue, duration: outcome.latency)
            try await record(outcome, of: claim, to: endpoint)
        } catch {
            logger.warning(
                "could not record a webhook delivery",
                metadata: ["event_id": .string(claim.eventID), "error": .string("\(type(of: error))")])
        }
    }

    private static func object(_ text: String) -> [String: JSONValue] {
        (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))?.objectValue ?? [:]
    }

    /// The attempt, the delivery's next step, and the endpoint's health, in one transaction: a success resets its
    /// failing time; `410 Gone`, or failures for `disableAfter`, disable it and emit `webhook.endpoint.disabled`.
    private func record(_ outcome: WebhookSender.Outcome, of claim: Claim, to endpoint: WebhookEndpointRow) async throws
    {
        let stamp = now()
        let at = stamp.timeIntervalSince1970
        let attempt = claim.attempts + 1
        let succeeded = outcome.result == .success
        let wait =
            succeeded || outcome.result == .gone
            ? nil : configuration.schedule.wait(afterAttempt: attempt, retryAfter: outcome.retryAfter)
        let status = succeeded ? "succeeded" : wait == nil ? "failed" : "pending"
        let attemptRow = WebhookAttemptRow(
            id: UUID.newRowID(now: stamp).uuidString.lowercased(), endpointID: claim.endpointID,
            eventID: claim.eventID, attempt: attempt, attemptedAt: at, statusCode: outcome.statusCode,
            latencyMS: Int(outcome.latency.milliseconds), response: outcome.response, error: outcome.error,
            result: outcome.result.rawValue)
        let (holder, disableAfter) = (configuration.holder, configuration.disableAfter)
        try await store.write("webhook attempt") { sql in
            try await sql.insert(into: WebhookTables.attempts).model(attemptRow).run()
            try await sql.update(WebhookTables.deliveries)
                .set("status", to: SQLBind(status)).set("attempts", to: SQLBind(attempt))
                .set("next_attempt_at", to: SQLBind(at + (wait ?? 0)))
                .set("lease_holder", to: SQLLiteral.null).set("lease_expires_at", to: SQLLiteral.null)
                .set("last_status_code", to: SQLBind(outcome.statusCode)).set("updated_at", to: SQLBind(at))
                .where("id", .equal, SQLBind(claim.id)).where("lease_holder", .equal, SQLBind(holder)).run()
            if succeeded {
                try await sql.update(WebhookTables.endpoints).set("failing_since", to: SQLLiteral.null)
                    .where("id", .equal, SQLBind(claim.endpointID)).run()
                return
            }
            let failingSince =
                try await sql.update(WebhookTables.endpoints)
                .set("failing_since", to: SQLRaw("COALESCE(failing_since, \(at))"))
                .where("id", .equal, SQLBind(claim.endpointID)).returning("failing_since").first()?
                .decode(column: "failing_since", as: Double?.self) ?? at
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
            WebhookEvent(
                kind: .endpointDisabled, systemID: endpoint.systemID,
                data: [
                    "endpoint_id": .string(endpoint.id), "url": .string(endpoint.url),
                    "system_id": .text(endpoint.systemID), "reason": .string(reason),
                    "failing_since": .string(ISO8601.string(Date(timeIntervalSince1970: failingSince))),
                ]),
            at: stamp, on: sql)
    }

    /// A delivery that cannot be made (its endpoint or event deleted, its secret unreadable) stops being tried.
    private func giveUp(_ claim: Claim, reason: String) async throws {
        let at = now().timeIntervalSince1970
        try await store.write("webhook give up") { sql in
            try await sql.update(WebhookTables.deliveries).set("status", to: SQLBind("failed"))
                .set("lease_holder", to: SQLLiteral.null).set("lease_expires_at", to: SQLLiteral.null)
                .set("updated_at", to: SQLBind(at)).where("id", .equal, SQLBind(claim.id)).run()
        }
        logger.warning(
            "a webhook delivery was given up",
            metadata: ["event_id": .string(claim.eventID), "reason": .string(reason)])
    }

    private func release(_ claim: Claim) async throws {
        let holder = configuration.holder
        try await store.write("webhook release") { sql in
            try await sql.update(WebhookTables.deliveries).set("lease_holder", to: SQLLiteral.null)
                .set("lease_expires_at", to: SQLLiteral.null)
                .where("id", .equal, SQLBind(claim.id)).where("lease_holder", .equal, SQLBind(holder)).run()
        }
    }

    // MARK: Upkeep

    private func measureQueue() async {
        do {
            let pending = try await sql.select()
                .column(SQLAlias(SQLFunction("COUNT", args: SQLLiteral.all), as: "n"))
                .column(SQLAlias(SQLFunction("MIN", args: SQLColumn("occurred_at")), as: "oldest"))
                .from(WebhookTables.deliveries).where("status", .equal, SQLBind("pending")).first()
            let unfanned = try await sql.select()
                .column(SQLAlias(SQLFunction("COUNT", args: SQLLiteral.all), as: "n"))
                .column(SQLAlias(SQLFunction("MIN", args: SQLColumn("occurred_at")), as: "oldest"))
                .from(WebhookTables.events).where("fanned_at", .is, SQLLiteral.null).first()
            let depth =
                (try pending?.decode(column: "n", as: Int.self) ?? 0)
                + (try unfanned?.decode(column: "n", as: Int.self) ?? 0)
            let oldest = [
                try pending?.decode(column: "oldest", as: Double?.self),
                try unfanned?.decode(column: "oldest", as: Double?.self),
            ].compactMap { $0 }.min()
            metrics.webhookQueue(depth: depth, oldestAge: oldest.map { max(0, now().timeIntervalSince1970 - $0) } ?? 0)
        } catch {
            logger.debug("could not measure the webhook queue", metadata: ["error": .string("\(type(of: error))")])
        }
    }

    /// Removes attempts, finished deliveries and events older than `keep`.
    private func prune() async {
        let before = now().timeIntervalSince1970 - configuration.keep
        do {
            try await store.write("webhook prune") { sql in
                try await sql.delete(from: WebhookTables.attempts).where("attempted_at", .lessThan, SQLBind(before))
                    .run()
                try await sql.delete(from: WebhookTables.deliveries).where("status", .notEqual, SQLBind("pending"))
                    .where("updated_at", .lessThan, SQLBind(before)).run()
                try await sql.raw(
                    """
                    DELETE FROM \(ident: WebhookTables.events) WHERE occurred_at < \(bind: before) \
                    AND NOT EXISTS (SELECT 1 FROM \(ident: WebhookTables.deliveries) d WHERE d.event_id = \(ident: WebhookTables.events).id)
                    """
                ).run()
            }
        } catch {
            logger.warning("could not remove old webhook events", metadata: ["error": .string("\(type(of: error))")])
        }
    }
}
