import Fluent
import NIOConcurrencyHelpers
import SQLKit

/// Runs the store's writes in at most `transactions` transactions at a time (one for SQLite, which has one writer).
/// Writes that arrive while those run wait and then share the next one, so a busy gateway pays one
/// `BEGIN`/`COMMIT` for many chats instead of one each.
/// If any write of a shared transaction fails, or the commit does, it is rolled back and each of its writes runs
/// again in a transaction of its own: a failure fails its own chat and no other.
/// A write's additions to the usage sums are made at the end of its transaction, all of them in one order, so
/// transactions updating the same sums never wait on each other in a cycle.
final class WriteBatcher: Sendable {
    typealias Write = @Sendable (any SQLDatabase) async throws -> Void

    private struct Waiting {
        let write: Write
        let usage: [UsageRollup.Key: UsageRollup.Counters]
        let done: CheckedContinuation<Void, any Error>
    }

    private struct Queue {
        var waiting: [Waiting] = []
        var drains = 0
    }

    private let database: any Database
    private let transactions: Int
    /// Small enough that a user's message arriving behind a full batch waits for little, so a stream's first token
    /// stays early; large enough that a busy gateway commits rarely.
    private let maxBatch: Int
    private let queue = NIOLockedValueBox(Queue())
    /// Runs in each transaction after its usage is added to the sums (webhooks' usage thresholds).
    private let afterUsage: (@Sendable ([UsageRollup.Key: UsageRollup.Counters], any SQLDatabase) async throws -> Void)?
    /// SQLite: each transaction takes the write lock with its first statement. One that read first would hold a
    /// snapshot, and its first write fails at once (`SQLITE_BUSY_SNAPSHOT`, which no busy handler waits out) when
    /// another connection (the admin API's) committed in between.
    private let locksFirst: Bool

    init(
        database: any Database, transactions: Int = 1, maxBatch: Int = 16,
        afterUsage: (@Sendable ([UsageRollup.Key: UsageRollup.Counters], any SQLDatabase) async throws -> Void)? = nil,
        locksFirst: Bool = false
    ) {
        self.locksFirst = locksFirst
        self.database = database
        self.transactions = transactions
        self.maxBatch = maxBatch
        self.afterUsage = afterUsage
    }

    /// Returns once `write` is committed, or throws its own error. It runs to the end even if the caller is
    /// cancelled: a chat's rows are stored whatever its client does.
    func perform(
        _ write: @escaping Write, usage: [UsageRollup.Key: UsageRollup.Counters] = [:]
    ) async throws {
        try await withCheckedThrowingContinuation { done in
            let startsDrain = queue.withLockedValue { queue in
                queue.waiting.append(Waiting(write: write, usage: usage, done: done))
                guard queue.drains < transactions else { return false }
                queue.drains += 1
                return true
            }
            if startsDrain { Task { await self.drain() } }
        }
    }

    /// An update that changes no row but, being an update, takes SQLite's write lock (waiting for it as for any write).
    static func takeWriteLock(on sql: any SQLDatabase) async throws {
        try await sql.raw("UPDATE \(ident: AdminStore.versionTable) SET version = version WHERE 1 = 0").run()
    }

    private func drain() async {
        while let batch = nextBatch() { await run(batch) }
    }

    private func nextBatch() -> [Waiting]? {
        queue.withLockedValue { queue in
            guard !queue.waiting.isEmpty else {
                queue.drains -= 1
                return nil
            }
            let batch = Array(queue.waiting.prefix(maxBatch))
            queue.waiting.removeFirst(batch.count)
            return batch
        }
    }

    private func run(_ batch: [Waiting]) async {
        // A batch that got no connection, or no BEGIN, failed none of its writes: running them again one by one
        // would only wait for a connection once more for each.
        let began = NIOLockedValueBox(false)
        do {
            try await database.transaction { transaction in
                began.withLockedValue { $0 = true }
                let sql = transaction as! any SQLDatabase
                if self.locksFirst { try await Self.takeWriteLock(on: sql) }
                var usage: [UsageRollup.Key: UsageRollup.Counters] = [:]
                for waiting in batch {
                    try await waiting.write(sql)
                    usage.merge(waiting.usage, uniquingKeysWith: +)
                }
                try await UsageRollup.add(usage, on: sql)
                if let afterUsage = self.afterUsage, !usage.isEmpty { try await afterUsage(usage, sql) }
            }
            for waiting in batch { waiting.done.resume() }
        } catch  where batch.count > 1 && began.withLockedValue({ $0 }) {
            for waiting in batch { await run([waiting]) }
        } catch {
            for waiting in batch { waiting.done.resume(throwing: error) }
        }
    }
}
