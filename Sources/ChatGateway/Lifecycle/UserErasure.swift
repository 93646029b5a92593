import Fluent
import Foundation
import Logging
import NIOConcurrencyHelpers
import SQLKit

/// Erases one user of one system from Dify, the gateway's tables, the ledger and the database's files, recording
/// each step in its receipt. Every step can run again: an erasure a crash cut short is resumed from the start.
struct UserErasure: Sendable {
    let store: ConversationStore
    let erasures: ErasureStore
    let dify: any DifyClient
    let targets: DifyTargetResolver
    let audit: AdminStore
    let database: @Sendable () -> any SQLDatabase
    let isPostgres: Bool
    /// Stops a user's streams running in this process (with Dify), and asks other replicas to stop theirs.
    let stopStreams: @Sendable (CallerIdentity) async -> Void
    let retry: RetryPolicy
    let now: @Sendable () -> Date
    let logger: Logger
    var metrics: GatewayMetrics? = nil
    /// How long another replica may take to see the erasure and refuse the user's chats.
    var replicaNotice: Duration = .seconds(3)
    var turnsEndWait: Duration = .seconds(60)

    /// Runs every step and saves the receipt after each; the receipt it ends with. `ending` runs just before the
    /// receipt is saved as ended, so that whoever reads that status finds the user's chats allowed again.
    func run(_ start: ErasureReceipt, userID: String, ending: @Sendable () -> Void = {}) async -> ErasureReceipt {
        var receipt = start
        let caller = CallerIdentity(systemID: receipt.systemID, userID: userID)
        do {
            try await step(.refuseNewChats, &receipt) { _ in
                if isPostgres { try await Task.sleep(for: replicaNotice) }
                await stopStreams(caller)
                return try await waitForTurnsToEnd(of: caller)
            }
            try await step(.dify, &receipt) { receipt in try await eraseInDify(caller, &receipt) }
            try await step(.gateway, &receipt) { receipt in
                receipt.gateway = try await eraseInGateway(caller)
                return nil
            }
            try await step(.ledger, &receipt) { receipt in
                let subject = receipt.subject
                let moved = try await store.write("pseudonymize usage") { sql in
                    try await UsageRollup.rename(systemID: caller.systemID, userID: caller.userID, to: subject, on: sql)
                }
                receipt.ledger = ["usage_rows_pseudonymized": moved]
                return nil
            }
            try await step(.notify, &receipt) { receipt in
                try await notify(receipt)
                return nil
            }
            // Last: the files must also forget the erasure's own row, which named the user while it ran.
            receipt.mark(.storage, "running")
            try await erasures.save(receipt, at: now(), forgettingUser: true)
            receipt = try await finish(receipt, ending: ending)
        } catch {
            logger.error(
                "an erasure failed", metadata: ["erasure_id": .string(receipt.id), "error": .string("\(error)")])
            receipt.status = .failed
            receipt.error = String(describing: error)
            receipt.finishedAt = ISO8601.string(now())
            ending()
            try? await erasures.save(receipt, at: now())
            metrics?.erasureEnded("failed")
        }
        return receipt
    }

    /// The last step, which needs no user id: what a crash during it leaves to do.
    func finish(_ start: ErasureReceipt, ending: @Sendable () -> Void = {}) async throws -> ErasureReceipt {
        var receipt = start
        receipt.storage = await forgetInFiles()
        receipt.mark(.storage, "completed", at: now())
        receipt.status = .completed
        receipt.finishedAt = ISO8601.string(now())
        ending()
        try await erasures.save(receipt, at: now())
        metrics?.erasureEnded("completed")
        return receipt
    }

    private func step(
        _ name: ErasureReceipt.Step.Name, _ receipt: inout ErasureReceipt,
        _ body: (inout ErasureReceipt) async throws -> String?
    ) async throws {
        receipt.mark(name, "running")
        try await erasures.save(receipt, at: now())
        do {
            let detail = try await body(&receipt)
            receipt.mark(name, "completed", at: now(), detail: detail)
        } catch {
            receipt.mark(name, "failed", at: now(), detail: String(describing: error))
            throw error
        }
        try await erasures.save(receipt, at: now())
    }

    private func waitForTurnsToEnd(of caller: CallerIdentity) async throws -> String? {
        let turns = TurnEventStore(database: { database() as! any Database })
        let clock = ContinuousClock()
        let deadline = clock.now + turnsEndWait
        while try await !turns.inProgress(systemID: caller.systemID, userID: caller.userID).isEmpty {
            guard clock.now < deadline else { return "turns still running were left to end on their own" }
            try await Task.sleep(for: .milliseconds(100))
        }
        return nil
    }

    // MARK: Dify

    /// Lists every conversation of the user in the system's Dify app (all pages, those the gateway never saw too),
    /// deletes each, and lists again until none is left.
    private func eraseInDify(_ caller: CallerIdentity, _ receipt: inout ErasureReceipt) async throws -> String? {
        let target: DifyTarget
        do {
            target = try targets.target(forSystem: caller.systemID)
        } catch .notConfigured {
            return "no Dify app is configured for this system"
        }
        let retries = RetryCounter()
        let policy = retries.counting(retry)
        var app = ErasureReceipt.DifyApp(app: Self.describe(target))
        for _ in 0..<5 {
            let found = try await dify.allConversations(user: caller.difyUser, at: target, retry: policy)
            if found.isEmpty {
                app.confirmedGone = true
                break
            }
            app.conversationsFound += found.count
            for conversation in found {
                let deleted = try await dify.deleteConversationIfPresent(
                    conversation.id, user: caller.difyUser, at: target, retry: policy)
                if deleted { app.conversationsDeleted += 1 }
            }
        }
        app.retries = retries.count
        // A conversation found again after its deletion was counted twice.
        app.conversationsFound = app.conversationsDeleted
        receipt.dify = [app]
        receipt.difyConversationsDeleted = app.conversationsDeleted
        receipt.retries = retries.count
        guard app.confirmedGone else { throw LifecycleError.invalid("Dify still lists conversations of the user") }
        return nil
    }

    /// The app as the receipt names it: its address and the key's last four characters, never the key.
    static func describe(_ target: DifyTarget) -> String {
        "\(target.baseURL.absoluteString) (key …\(target.apiKey.suffix(4)))"
    }

    // MARK: The gateway's tables

    /// Deletes everything the gateway holds of the user, a batch per transaction so chats never wait long; the
    /// count of each kind.
    func eraseInGateway(_ caller: CallerIdentity) async throws -> [String: Int] {
        var counts = [
            "conversations": 0, "messages": 0, "turn_events": 0, "feedback": 0, "idempotency_records": 0,
            "files": 0, "webhook_events": 0, "conversation_mappings": 0, "users": 0, "rate_limit_buckets": 0,
            "budget_holds": 0,
        ]
        let (systemID, userID) = (caller.systemID, caller.userID)
        counts.merge(
            try await inBatches("erase messages") { sql in
                let rows = try await sql.select().columns("id", "role", "feedback_rating", "idempotency_key", "files")
                    .from(StoredMessage.schema).owned(bySystem: systemID, user: userID).limit(Self.batchSize).all()
                guard !rows.isEmpty else { return [:] }
                let ids = try rows.map { try $0.decode(column: "id", as: UUID.self) }
                let turnIDs = ids.map { $0.uuidString.lowercased() }
                let events = try await sql.delete(from: TurnEventStore.schema)
                    .where("turn_id", .in, SQLBind.group(turnIDs)).returning("turn_id").all().count
                try await sql.delete(from: StoredMessage.schema).where("id", .in, SQLBind.group(ids)).run()
                func count(_ column: String) throws -> Int {
                    try rows.filter { try $0.decode(column: column, as: String?.self) != nil }.count
                }
                return [
                    "messages": rows.count, "turn_events": events, "feedback": try count("feedback_rating"),
                    "idempotency_records": try count("idempotency_key"), "files": try count("files"),
                ]
            }, uniquingKeysWith: +)
        counts.merge(
            try await inBatches("erase conversations") { sql in
                let ids = try await Self.batchOfIDs(
                    "conversation_id", in: StoredConversation.schema, ownedBy: caller, on: sql)
                guard !ids.isEmpty else { return [:] }
                try await sql.delete(from: StoredConversation.schema).where("conversation_id", .in, SQLBind.group(ids))
                    .run()
                return ["conversations": ids.count]
            }, uniquingKeysWith: +)
        counts.merge(
            try await inBatches("erase webhook events") { sql in
                let ids = try await Self.batchOfIDs("id", in: WebhookTables.events, ownedBy: caller, on: sql)
                guard !ids.isEmpty else { return [:] }
                for table in [WebhookTables.attempts, WebhookTables.deliveries] {
                    try await sql.delete(from: table).where("event_id", .in, SQLBind.group(ids)).run()
                }
                try await sql.delete(from: WebhookTables.events).where("id", .in, SQLBind.group(ids)).run()
                return ["webhook_events": ids.count]
            }, uniquingKeysWith: +)
        let rest = try await store.write("erase user") { sql in
            func deleted(_ delete: SQLDeleteBuilder, key: String) async throws -> Int {
                try await delete.returning(key).all().count
            }
            let bucketSuffix = "|\(caller.difyUser)"
            let holdPrefix = "user|\(caller.systemID)|\(caller.userID)|"
            return [
                "conversation_mappings": try await deleted(
                    sql.delete(from: OpenAIConversations.table).owned(bySystem: systemID, user: userID),
                    key: "conversation_id"),
                "users": try await deleted(
                    sql.delete(from: ChatUser.schema).owned(bySystem: systemID, user: userID), key: "id"),
                "rate_limit_buckets": try await deleted(
                    sql.delete(from: SharedRateLimiter.table).where(
                        SQLQueryString(
                            "substr(bucket, length(bucket) - \(unsafeRaw: String(bucketSuffix.unicodeScalars.count)) + 1) = \(bind: bucketSuffix)"
                        )), key: "bucket"),
                "budget_holds": try await deleted(
                    sql.delete(from: BudgetGuard.holdsTable).where(
                        SQLQueryString(
                            "substr(scope, 1, \(unsafeRaw: String(holdPrefix.unicodeScalars.count))) = \(bind: holdPrefix)"
                        )),
                    key: "scope"),
            ]
        }
        counts.merge(rest, uniquingKeysWith: +)
        return counts
    }

    static let batchSize = 200

    /// Up to a batch of the user's rows of `table`, by their text id `column`.
    private static func batchOfIDs(
        _ column: String, in table: String, ownedBy caller: CallerIdentity, on sql: any SQLDatabase
    ) async throws -> [String] {
        try await sql.select().column(column).from(table).owned(bySystem: caller.systemID, user: caller.userID)
            .limit(batchSize).all().map { try $0.decode(column: column, as: String.self) }
    }

    /// Runs `batch` in a transaction of its own again and again until one finds nothing: what they deleted, added up.
    private func inBatches(
        _ operation: String, _ batch: @escaping @Sendable (any SQLDatabase) async throws -> [String: Int]
    ) async throws -> [String: Int] {
        var total: [String: Int] = [:]
        while true {
            let counts = try await store.write(operation, returning: batch)
            guard !counts.isEmpty else { return total }
            total.merge(counts, uniquingKeysWith: +)
        }
    }

    // MARK: Notifying, and the files

    private func notify(_ receipt: ErasureReceipt) async throws {
        let stamp = now()
        let event = WebhookEvent(
            kind: .userErased, systemID: receipt.systemID, userID: receipt.subject,
            data: [
                "erasure_id": .string(receipt.id), "system_id": .string(receipt.systemID),
                "subject": .string(receipt.subject), "completed_at": .string(ISO8601.string(stamp)),
                "gateway": .object(receipt.gateway.mapValues { .integer($0) }),
                "dify_conversations_deleted": .integer(receipt.difyConversationsDeleted),
            ])
        _ = try await store.write("announce erasure") { sql in
            try await WebhookOutbox.emit(event, at: stamp, on: sql)
        }
        let deleted = receipt.gateway.values.reduce(0, +)
        try await audit.record(
            AuditEntry(
                at: stamp, actor: receipt.requestedBy, action: "user.erased",
                target: "system/\(receipt.systemID)/subject/\(receipt.subject)",
                detail:
                    "erasure \(receipt.id): \(deleted) rows in the gateway, \(receipt.difyConversationsDeleted) conversations in Dify"
            ))
    }

    /// SQLite keeps deleted text in free pages (zeroed: every connection has `secure_delete` on) and in the WAL
    /// until a checkpoint empties it; PostgreSQL keeps dead rows until a vacuum.
    private func forgetInFiles() async -> ErasureReceipt.Storage {
        let sql = database()
        if isPostgres {
            var storage = ErasureReceipt.Storage(engine: "postgresql")
            for table in Self.touchedTables {
                do {
                    try await sql.raw("VACUUM \(ident: table)").run()
                    storage.vacuumed.append(table)
                } catch {
                    logger.warning("a vacuum after an erasure failed", metadata: ["table": .string(table)])
                }
            }
            return storage
        }
        var storage = ErasureReceipt.Storage(engine: "sqlite")
        storage.secureDelete =
            (try? await sql.raw("PRAGMA secure_delete").first()?.decode(column: "secure_delete", as: Int.self)) == 1
        storage.walCheckpoint = "busy"
        for _ in 0..<50 {
            let busy = try? await sql.raw("PRAGMA wal_checkpoint(TRUNCATE)").first()?.decode(
                column: "busy", as: Int.self)
            if busy == 0 {
                storage.walCheckpoint = "truncated"
                break
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return storage
    }

    static let touchedTables = [
        StoredMessage.schema, StoredConversation.schema, TurnEventStore.schema, ChatUser.schema,
        OpenAIConversations.table, WebhookTables.events, WebhookTables.deliveries, WebhookTables.attempts,
        UsageRollup.usersTable, SharedRateLimiter.table, BudgetGuard.holdsTable, ErasureStore.table,
    ]
}

/// Counts the retries a policy makes (each wait before one).
final class RetryCounter: Sendable {
    private let waits = NIOLockedValueBox(0)
    var count: Int { waits.withLockedValue { $0 } }

    func counting(_ policy: RetryPolicy) -> RetryPolicy {
        var counted = policy
        counted.sleep = { [waits] delay in
            waits.withLockedValue { $0 += 1 }
            try await policy.sleep(delay)
        }
        return counted
    }
}
