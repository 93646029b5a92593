import FluentSQLiteDriver
import Logging
import NIOCore
import NIOPosix
import SQLKit

/// SQLite's one writer, as one connection of its own on a thread of its own, with the WAL checkpoints
/// moved off it.
///
/// Why, measured under `bench/chat-throughput.sh` (bench/README.md, session 12): every chat's rows pass
/// through SQLite's single writer, so its time per batch caps the gateway. Through Fluent's pool the group
/// commit ran on whichever event loop's connection it was given, and each connection's page cache was
/// thrown away whenever the other one had written; and every 1,000 pages of log the committing connection
/// copied the log into the database and fsynced it (SQLite's automatic checkpoint), inside a chat's commit.
/// Here the writer keeps its cache, and a second connection checkpoints in the background, once enough of the
/// log waits (read from the WAL index, `SQLiteWALIndex`), while the writer goes on. The writer still checkpoints
/// itself past `safetyCheckpointPages`, so the log stays bounded even if the background checkpoints fall behind
/// (a passive checkpoint never blocks the writer, so under constant load it may never find the log fully
/// copied, and only a checkpoint by the writer lets the next commit start the log over).
actor SQLiteWriteConnection {
    struct Tuning: Sendable {
        /// How often the background connection looks at the log.
        var checkpointInterval: Duration = .milliseconds(100)
        /// The background connection copies the log into the file once this many pages wait in it (SQLite's own
        /// threshold for its automatic checkpoint). Not after every commit: the first commit after a complete
        /// checkpoint starts the log over, and the log's new header is fsynced inside that commit (1–2 ms here),
        /// so checkpointing whenever something was committed put an fsync into nearly every chat at light load.
        var checkpointPages = 1_000
        /// The writer's own automatic checkpoint, in pages (SQLite's default is 1,000).
        var safetyCheckpointPages = 8_000
    }

    private struct Open {
        let writer: SQLiteConnection
        let checkpointer: SQLiteConnection
        let checkpoints: Task<Void, Never>
        /// One thread each, so a checkpoint in progress never delays a commit. Made when the file is first
        /// opened, so a writer that never writes holds no threads.
        let threads: [NIOThreadPool]
    }

    private let path: String
    private let walIndex: SQLiteWALIndex
    private let tuning: Tuning
    private let eventLoop: any EventLoop
    private let logger: Logger
    private var state: Open?
    private var opening: Task<Open, any Error>?
    private var closed = false
    /// Set by every commit, cleared by the background connection's next look at the log.
    private var committedSinceCheckpoint = false

    init(path: String, tuning: Tuning = .init(), eventLoop: any EventLoop, logger: Logger) {
        self.path = path
        self.walIndex = SQLiteWALIndex(databasePath: path)
        self.tuning = tuning
        self.eventLoop = eventLoop
        self.logger = logger
    }

    /// Runs `body` on the writer connection, opened on first use (commands that never write never open the file).
    func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let writer = try await openIfNeeded().writer
        defer { committedSinceCheckpoint = true }
        return try await body(writer.sql(queryLogLevel: .debug))
    }

    private func openIfNeeded() async throws -> Open {
        if let state { return state }
        guard !closed else { throw SQLiteWriteConnectionClosed() }
        if let opening { return try await opening.value }
        let task = Task { [path, tuning, eventLoop, logger] in
            try await Self.open(path: path, tuning: tuning, eventLoop: eventLoop, logger: logger) { checkpointer in
                Task { await self.checkpointWhileOpen(checkpointer) }
            }
        }
        opening = task
        do {
            let state = try await task.value
            self.state = state
            return state
        } catch {
            opening = nil   // the next write tries again
            throw error
        }
    }

    private static func open(
        path: String, tuning: Tuning, eventLoop: any EventLoop, logger: Logger,
        startCheckpoints: @Sendable (SQLiteConnection) -> Task<Void, Never>
    ) async throws -> Open {
        let threads = [NIOThreadPool(numberOfThreads: 1), NIOThreadPool(numberOfThreads: 1)]
        for thread in threads { thread.start() }
        var connections: [SQLiteConnection] = []
        do {
            for thread in threads {
                connections.append(try await SQLiteConnection.open(storage: .file(path: path), threadPool: thread, logger: logger, on: eventLoop))
            }
            let (writer, checkpointer) = (connections[0], connections[1])
            for pragma in [SQLitePragmas.walMode] + SQLitePragmas.perConnection + ["PRAGMA wal_autocheckpoint=\(tuning.safetyCheckpointPages)"] {
                _ = try await writer.query(pragma)
            }
            for pragma in SQLitePragmas.perConnection { _ = try await checkpointer.query(pragma) }
            return Open(writer: writer, checkpointer: checkpointer, checkpoints: startCheckpoints(checkpointer), threads: threads)
        } catch {
            for connection in connections { try? await connection.close() }
            for thread in threads { try? await thread.shutdownGracefully() }
            throw error
        }
    }

    private func checkpointWhileOpen(_ connection: SQLiteConnection) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: tuning.checkpointInterval)
            // Looks only after new commits: an idle gateway with a few pages in the log reads nothing.
            guard committedSinceCheckpoint else { continue }
            committedSinceCheckpoint = false
            guard (walIndex.pagesWaiting() ?? 0) >= tuning.checkpointPages else { continue }
            do {
                _ = try await connection.query("PRAGMA wal_checkpoint(PASSIVE)")
            } catch where !Task.isCancelled {
                logger.warning("background WAL checkpoint failed; the writer checkpoints on its own", metadata: ["error": "\(error)"])
            } catch {
                return   // closing: the last connection to close checkpoints the log
            }
        }
    }

    /// Closes both connections (SQLite checkpoints the log when the last one closes) and their threads.
    func close() async {
        guard !closed else { return }
        closed = true
        let state = if let state { state } else { try? await opening?.value }
        if let state {
            state.checkpoints.cancel()
            await state.checkpoints.value
            try? await state.checkpointer.close()
            try? await state.writer.close()
            for thread in state.threads { try? await thread.shutdownGracefully() }
        }
        self.state = nil
        opening = nil
    }
}

/// How every connection to the SQLite file is set up. WAL lets readers work while one writer commits, and is
/// stored in the file (set once, at boot). The others hold per connection, so each connection sets them:
/// - `synchronous=NORMAL`: in WAL mode it stays safe against crashes of the process (a commit is in the log
///   before we answer) and skips an fsync per commit.
/// - `temp_store=MEMORY`: a multi-row upsert inside a transaction keeps a statement journal; on a file that
///   was a temporary file created, written and closed for every group commit.
enum SQLitePragmas {
    static let walMode = "PRAGMA journal_mode=WAL"
    static let perConnection = ["PRAGMA synchronous=NORMAL", "PRAGMA temp_store=MEMORY"]
}

struct SQLiteWriteConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the SQLite writer is closed (the gateway is shutting down)" }
}

/// Runs a group commit's statements on SQLite's writer connection as one transaction, queued together
/// (see `RowUpsert.runAsOneTransaction`). One batch at a time (the `GroupCommitWriter` for SQLite has one batch in
/// flight): batches queued by concurrent callers could interleave their statements on the connection.
struct SQLiteConnectionRowWriter: RowWriter {
    let connection: SQLiteWriteConnection

    func write(_ rows: [RowUpsert]) async throws {
        let statements = RowUpsert.statements(for: rows)
        try await connection.write { sql in try await RowUpsert.runAsOneTransaction(statements, queuedOn: sql) }
    }
}
