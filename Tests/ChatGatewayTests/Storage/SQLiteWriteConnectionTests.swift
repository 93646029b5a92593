import Fluent
import SQLKit
import Foundation
import Testing
@testable import ChatGateway

@Suite("SQLite's writer connection", .enabled(if: TestDatabase.postgresURL == nil, "SQLite only: the suite runs on PostgreSQL"))
struct SQLiteWriteConnectionTests {
    private static func sqlitePath(_ harness: GatewayHarness) throws -> String {
        guard case .sqlite(let path) = harness.settings.database else { throw Unexpected() }
        return path
    }

    private struct Unexpected: Error {}

    private static func fileSize(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }

    private static func writePending(_ count: Int, through connection: SQLiteWriteConnection, _ harness: GatewayHarness) async throws {
        let writer = GroupCommitWriter(batchWriter: { SQLiteConnectionRowWriter(connection: connection) }, logger: harness.app.logger)
        let store = ConversationStore(database: harness.app.db, writer: writer, now: Date.init)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    _ = try await store.recordPendingUserMessage(
                        CallerIdentity(systemID: "drillquiz", userID: "user-\(index)"), conversationID: nil,
                        content: String(repeating: "m", count: 500))
                }
            }
            try await group.waitForAll()
        }
    }

    /// A gateway on a throwaway SQLite file, and a writer connection of the test's own to it (closed afterwards).
    private static func withWriter(
        _ tuning: SQLiteWriteConnection.Tuning = .init(),
        _ body: (GatewayHarness, SQLiteWriteConnection, _ path: String) async throws -> Void
    ) async throws {
        try await GatewayHarness.with { harness in
            let path = try sqlitePath(harness)
            let connection = SQLiteWriteConnection(path: path, tuning: tuning, eventLoop: harness.app.eventLoopGroup.any(), logger: harness.app.logger)
            do {
                try await body(harness, connection, path)
            } catch {
                await connection.close()
                throw error
            }
            await connection.close()
        }
    }

    @Test func writesAreReadableAtOnceAndCopiedIntoTheFileInTheBackground() async throws {
        try await Self.withWriter(.init(checkpointInterval: .milliseconds(20), checkpointPages: 1, safetyCheckpointPages: 1_000_000)) { harness, connection, path in
            let before = Self.fileSize(path)
            try await Self.writePending(300, through: connection, harness)
            // Committed on the writer's connection, seen by the pool's.
            #expect(try await StoredMessage.query(on: harness.app.db).count() == 300)
            // In WAL mode the database file only grows when a checkpoint copies the log into it; the writer's own
            // checkpoint is set out of reach here, so growth is the background connection's work.
            let deadline = ContinuousClock.now + .seconds(10)
            while Self.fileSize(path) <= before, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(Self.fileSize(path) > before)
        }
    }

    /// A light load leaves its pages in the log (each complete checkpoint makes the next commit fsync a new log
    /// header), and the WAL index tells how many wait, until a checkpoint copies them.
    @Test func aFewPagesStayInTheLogUntilEnoughWait() async throws {
        try await Self.withWriter(.init(checkpointInterval: .milliseconds(10), checkpointPages: 1_000_000, safetyCheckpointPages: 1_000_000)) { harness, connection, path in
            let index = SQLiteWALIndex(databasePath: path)
            try await Self.writePending(1, through: connection, harness)
            let before = Self.fileSize(path)
            let waiting = try #require(index.pagesWaiting())
            try await Self.writePending(50, through: connection, harness)
            try await Task.sleep(for: .milliseconds(200))   // twenty looks by the background connection
            #expect(Self.fileSize(path) == before, "checkpointed below the threshold")
            let waitingAfter = try #require(index.pagesWaiting())
            #expect(waitingAfter > waiting, "the WAL index showed \(waiting) pages waiting, then \(waitingAfter)")

            // On a connection that has read the database (one that has not yet does not know it is in WAL mode).
            try await (harness.app.db as! any SQLDatabase).withSession { sql in
                _ = try await sql.raw("SELECT count(*) FROM gateway_messages").all()
                _ = try await sql.raw("PRAGMA wal_checkpoint(PASSIVE)").all()
            }
            #expect(index.pagesWaiting() == 0)
            #expect(Self.fileSize(path) > before)
        }
    }

    /// A passive checkpoint never waits for the writer, so under constant load it may never find the whole log
    /// copied; the writer's own checkpoint keeps the log bounded then.
    @Test func theWriterCheckpointsItselfWhenTheBackgroundOneFallsBehind() async throws {
        try await Self.withWriter(.init(checkpointInterval: .seconds(3600), safetyCheckpointPages: 64)) { harness, connection, path in
            for _ in 0..<10 { try await Self.writePending(100, through: connection, harness) }
            #expect(try await StoredMessage.query(on: harness.app.db).count() == 1000)
            // 1,000 messages of 500 bytes with their indexes are far more than 64 pages of log.
            #expect(Self.fileSize(path + "-wal") < 1_000_000, "the log grew to \(Self.fileSize(path + "-wal")) bytes")
        }
    }

    /// A batch is queued as one transaction in one go; a failed one is reported to its caller and leaves the
    /// connection ready for the next (not inside a transaction). Its other statements may have been committed:
    /// `GroupCommitWriter` retries them job by job, and they are idempotent upserts.
    @Test func aFailedBatchIsReportedAndLeavesTheWriterUsable() async throws {
        try await Self.withWriter { harness, connection, _ in
            let writer = SQLiteConnectionRowWriter(connection: connection)
            let broken = RowUpsert(
                shape: .init(order: 99, table: ChatUser.schema, columns: ["no_such_column"], conflict: [], update: []),
                key: "broken", values: ["value"])
            let first = CallerIdentity(systemID: "drillquiz", userID: "first")
            await #expect(throws: (any Error).self) {
                try await writer.write([ConversationStore.userRow(first, at: Date()), broken])
            }
            let second = CallerIdentity(systemID: "drillquiz", userID: "second")
            try await writer.write([ConversationStore.userRow(second, at: Date()), ConversationStore.userRow(first, at: Date())])
            // The second batch's BEGIN would have failed inside a transaction left open.
            #expect(try await ChatUser.query(on: harness.app.db).count() == 2)
        }
    }

    @Test func aClosedWriterRefusesWritesWithAReason() async throws {
        try await Self.withWriter { harness, connection, _ in
            try await Self.writePending(1, through: connection, harness)
            await connection.close()
            await #expect(throws: SQLiteWriteConnectionClosed.self) { try await Self.writePending(1, through: connection, harness) }
            #expect(try await StoredMessage.query(on: harness.app.db).count() == 1)
        }
    }
}
