import Fluent
import Logging
import SQLKit

/// Writes rows durably: when `write` returns, they are committed.
protocol RowWriter: Sendable {
    func write(_ rows: [RowUpsert]) async throws
}

/// Writes each call's rows at once: in one transaction when they need more than one statement, unless
/// `atomic` is false (then each statement commits on its own; see `GroupCommitWriter`'s `atomicBatches`).
struct DirectRowWriter: RowWriter {
    let database: any Database
    var atomic = true

    func write(_ rows: [RowUpsert]) async throws {
        let statements = RowUpsert.statements(for: rows)
        guard statements.count > 1, atomic else {
            return try await RowUpsert.run(statements, on: database as! any SQLDatabase)
        }
        try await database.transaction { transaction in
            try await RowUpsert.run(statements, on: transaction as! any SQLDatabase)
        }
    }
}

/// Group commit: rows written while the previous batch commits are gathered and committed together,
/// as one multi-row statement per shape in one transaction.
///
/// Why: SQLite has one writer, and through SQLiteNIO every statement is a round trip to a thread pool
/// (about 0.7 ms on a busy 2-core machine). Seven statements per chat capped the gateway near 290 chats/s;
/// a batch costs a handful of statements whatever its size, so under load each chat's share shrinks
/// towards nothing, while a lone chat still commits at once (no timer, no waiting for company).
/// Each caller still returns only after its own rows are committed.
actor GroupCommitWriter: RowWriter {
    private struct Job {
        let rows: [RowUpsert]
        let continuation: CheckedContinuation<Void, any Error>
    }

    /// Writes one batch (made anew for each, as the database handle may change).
    private let batchWriter: @Sendable () -> any RowWriter
    /// How many batches may commit at once: 1 for SQLite's single writer; more on PostgreSQL, where a commit waits
    /// for its fsync and other transactions can proceed meanwhile (rows are sorted by key within each statement and
    /// statements run in `Shape.order`, so concurrent batches take row locks in one order).
    private let maxBatchesInFlight: Int
    private let logger: Logger
    private var waiting: [Job] = []
    private var committing = 0

    /// `atomicBatches: false` runs a batch's statements without a transaction around them. Every row is an
    /// idempotent upsert and a failed batch is retried job by job, so nothing depends on the batch being atomic
    /// (a reader may see a conversation mapped a moment before its answer). Only an in-memory SQLite database uses
    /// it (through Fluent's pool, where `BEGIN` and `COMMIT` would be two more trips to the thread pool); a SQLite
    /// file has a writer connection of its own that queues a batch's transaction in one go
    /// (`SQLiteConnectionRowWriter`), and on PostgreSQL each commit is an fsync, so batches stay one transaction.
    init(database: @escaping @Sendable () -> any Database, atomicBatches: Bool = true, maxBatchesInFlight: Int = 1, logger: Logger) {
        self.init(batchWriter: { DirectRowWriter(database: database(), atomic: atomicBatches) }, maxBatchesInFlight: maxBatchesInFlight, logger: logger)
    }

    /// Batches go to `batchWriter`, for example `SQLiteConnectionRowWriter` on SQLite's own writer connection.
    init(batchWriter: @escaping @Sendable () -> any RowWriter, maxBatchesInFlight: Int = 1, logger: Logger) {
        self.batchWriter = batchWriter
        self.maxBatchesInFlight = max(1, maxBatchesInFlight)
        self.logger = logger
    }

    func write(_ rows: [RowUpsert]) async throws {
        guard !rows.isEmpty else { return }
        try await withCheckedThrowingContinuation { continuation in
            waiting.append(Job(rows: rows, continuation: continuation))
            if committing < maxBatchesInFlight {
                committing += 1
                Task { await self.commitWhileWaiting() }
            }
        }
    }

    /// Each committer takes everything waiting as its batch; what arrives meanwhile forms the next one.
    private func commitWhileWaiting() async {
        while !waiting.isEmpty {
            let batch = waiting
            waiting = []
            await commit(batch)
        }
        committing -= 1
    }

    private func commit(_ batch: [Job]) async {
        let writer = batchWriter()
        let started = ContinuousClock.now
        do {
            try await writer.write(batch.flatMap(\.rows))
            logger.debug("group commit", metadata: [
                "jobs": .stringConvertible(batch.count), "duration_ms": .stringConvertible((ContinuousClock.now - started).milliseconds),
            ])
            for job in batch { job.continuation.resume() }
        } catch where batch.count > 1 {
            // One bad row must not fail its neighbours: retry each job alone so only its own caller sees the error.
            logger.debug("a group commit failed; retrying its writes one by one", metadata: ["jobs": .stringConvertible(batch.count)])
            for job in batch {
                do { try await writer.write(job.rows); job.continuation.resume() }
                catch { job.continuation.resume(throwing: error) }
            }
        } catch {
            batch.first?.continuation.resume(throwing: error)
        }
    }
}
