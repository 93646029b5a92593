import Foundation
import Logging
import SQLKit

/// How long each system keeps its messages: its own `retention_days` (admin API), else `RETENTION_DAYS`.
struct RetentionPolicy: Sendable {
    /// A system's row in the admin API, if it has one.
    let systemPolicy: @Sendable (String) -> ManagedSystem?
    let defaultDays: Int?

    /// The days `systemID`'s messages are kept; nil: until deleted.
    func days(for systemID: String) -> Int? {
        let days = systemPolicy(systemID)?.retentionDays ?? defaultDays
        return days == 0 ? nil : days
    }

    /// What is older than this has expired; nil: nothing expires.
    func cutoff(for systemID: String, at now: Date) -> Date? {
        days(for: systemID).map { now.addingTimeInterval(-Double($0) * 86_400) }
    }

    func deletesInDify(_ systemID: String) -> Bool { systemPolicy(systemID)?.retentionDeleteInDify ?? false }
}

/// Deletes what each system keeps past its retention: conversations whose last message is older than its
/// `retention_days` (or `RETENTION_DAYS`), with their messages, mappings and the content of their webhook events,
/// and messages that never had a conversation. Conversations on legal hold, or with a turn still being answered,
/// stay. Each batch is one short transaction among the chats' writes; the usage sums are not touched.
struct Retention: Sendable {
    let store: ConversationStore
    let database: @Sendable () -> any SQLDatabase
    let policy: RetentionPolicy
    let dify: any DifyClient
    let targets: DifyTargetResolver
    let now: @Sendable () -> Date
    let logger: Logger
    var metrics: GatewayMetrics? = nil
    var batchSize = 100
    var retry = RetryPolicy()

    struct SystemResult: Sendable, Equatable {
        var systemID: String
        var days: Int
        var conversations = 0
        var messages = 0
        var difyDeleted = 0
        var difyFailed = 0
    }

    /// One run over every system with stored messages; with `dryRun`, only counts.
    func run(dryRun: Bool = false) async throws -> [SystemResult] {
        var results: [SystemResult] = []
        for systemID in try await storedSystems() {
            guard let days = policy.days(for: systemID), let cutoff = policy.cutoff(for: systemID, at: now()) else {
                continue
            }
            var result = SystemResult(systemID: systemID, days: days)
            try await purgeConversations(of: systemID, before: cutoff, dryRun: dryRun, into: &result)
            try await purgeLooseMessages(of: systemID, before: cutoff, dryRun: dryRun, into: &result)
            results.append(result)
        }
        return results
    }

    private func storedSystems() async throws -> [String] {
        var ids = Set<String>()
        for table in [StoredConversation.schema, StoredMessage.schema] {
            let rows = try await database().select().distinct().column("system_id").from(table).all()
            ids.formUnion(try rows.map { try $0.decode(column: "system_id", as: String.self) })
        }
        return ids.sorted()
    }

    /// Walks the system's conversations oldest first, a batch at a time, deleting the expired ones.
    private func purgeConversations(
        of systemID: String, before cutoff: Date, dryRun: Bool, into result: inout SystemResult
    ) async throws {
        var after: (Date, String)?
        let alsoInDify = policy.deletesInDify(systemID)
        // A shutdown stops it between batches; the next run goes on where it stopped.
        while !Task.isCancelled {
            let step: @Sendable (any SQLDatabase) async throws -> Batch = { [after, batchSize] sql in
                var query = sql.select().columns("conversation_id", "dify_user", "updated_at")
                    .from(StoredConversation.schema)
                    .where("system_id", .equal, SQLBind(systemID)).where("updated_at", .lessThan, SQLBind(cutoff))
                if let (updatedAt, id) = after {
                    query = query.where(
                        SQLQueryString("(updated_at, conversation_id) > (\(bind: updatedAt), \(bind: id))"))
                }
                let rows = try await query.orderBy("updated_at").orderBy("conversation_id").limit(batchSize).all()
                guard let last = rows.last else { return Batch() }
                var batch = Batch(
                    last: (
                        try last.decode(column: "updated_at", as: Date.self),
                        try last.decode(column: "conversation_id", as: String.self)
                    ))
                let candidates = try rows.map {
                    (
                        try $0.decode(column: "conversation_id", as: String.self),
                        try $0.decode(column: "dify_user", as: String.self)
                    )
                }
                let kept = try await Self.keptConversations(candidates.map(\.0), since: cutoff, on: sql)
                let expired = candidates.filter { !kept.contains($0.0) }
                guard !expired.isEmpty else { return batch }
                let ids = expired.map(\.0)
                batch.expired = expired
                if dryRun {
                    batch.messages =
                        try await sql.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n")
                        .from(StoredMessage.schema).where("conversation_id", .in, SQLBind.group(ids)).first()?
                        .decode(column: "n", as: Int.self) ?? 0
                    return batch
                }
                batch.messages = try await ConversationStore.deleteRows(ofConversations: ids, on: sql)
                return batch
            }
            // A dry run only reads: it need not wait for the writer.
            let batch = dryRun ? try await step(database()) : try await store.write("retention", returning: step)
            guard let last = batch.last else { return }
            after = last
            result.conversations += batch.expired.count
            result.messages += batch.messages
            if !dryRun { metrics?.retentionDeleted(conversations: batch.expired.count, messages: batch.messages) }
            if alsoInDify, !dryRun, !batch.expired.isEmpty {
                await deleteInDify(batch.expired, of: systemID, into: &result)
            }
        }
    }

    private struct Batch: Sendable {
        var last: (Date, String)?
        var expired: [(String, String)] = []
        var messages = 0
    }

    /// Those of `ids` that stay: on legal hold, or with a message since the cut-off or a turn being answered.
    private static func keptConversations(
        _ ids: [String], since cutoff: Date, on sql: any SQLDatabase
    ) async throws -> Set<String> {
        let held = try await sql.select().column("conversation_id").from(StoredConversation.schema)
            .where("conversation_id", .in, SQLBind.group(ids)).where("legal_hold_at", .isNot, SQLLiteral.null).all()
        let active = try await sql.select().distinct().column("conversation_id").from(StoredMessage.schema)
            .where("conversation_id", .in, SQLBind.group(ids))
            .where {
                $0.where("created_at", .greaterThanOrEqual, SQLBind(cutoff)).orWhere(
                    "turn_holder", .isNot, SQLLiteral.null)
            }
            .all()
        return Set(try (held + active).map { try $0.decode(column: "conversation_id", as: String.self) })
    }

    /// Messages of the system that never had a conversation (refused, or failed before Dify named one).
    private func purgeLooseMessages(
        of systemID: String, before cutoff: Date, dryRun: Bool, into result: inout SystemResult
    ) async throws {
        while !dryRun, !Task.isCancelled {
            let deleted = try await store.write("retention") { [batchSize] sql in
                let ids = try await sql.select().column("id").from(StoredMessage.schema)
                    .where("system_id", .equal, SQLBind(systemID)).where("conversation_id", .is, SQLLiteral.null)
                    .where("created_at", .lessThan, SQLBind(cutoff)).where("turn_holder", .is, SQLLiteral.null)
                    .limit(batchSize).all().map { try $0.decode(column: "id", as: UUID.self) }
                guard !ids.isEmpty else { return 0 }
                try await sql.delete(from: StoredMessage.schema).where("id", .in, SQLBind.group(ids)).run()
                return ids.count
            }
            guard deleted > 0 else { return }
            result.messages += deleted
            metrics?.retentionDeleted(conversations: 0, messages: deleted)
        }
    }

    /// The system asked for its expired conversations to go from Dify too; a failure is logged and counted, and the
    /// gateway's copy is gone all the same.
    private func deleteInDify(
        _ conversations: [(String, String)], of systemID: String, into result: inout SystemResult
    )
        async
    {
        guard let target = try? targets.target(forSystem: systemID) else {
            result.difyFailed += conversations.count
            return
        }
        for (conversationID, difyUser) in conversations {
            do {
                // One already gone from Dify counts as deleted there.
                _ = try await dify.deleteConversationIfPresent(conversationID, user: difyUser, at: target, retry: retry)
                result.difyDeleted += 1
            } catch {
                result.difyFailed += 1
                logger.warning(
                    "retention could not delete a conversation in Dify",
                    metadata: ["system_id": .string(systemID), "conversation_id": .string(conversationID)])
            }
        }
    }
}
