import Fluent
import FluentSQLiteDriver
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SQLKit
import Testing

@testable import ChatGateway

/// SQLite's statements run on blocking threads, and a connection waiting for the file's write lock keeps its thread
/// until the lock is free. The gateway's waiting writers must not take the threads that everything else in the
/// process (another database, file reads, whoever holds the lock) needs to get on.
@Suite(
    "SQLite's blocking threads", .hangLimit,
    .enabled(if: TestDatabase.postgresURL == nil, "SQLite only"))
struct SQLiteThreadsTests {
    @Test func writersWaitingForTheLockLeaveTheProcessThreadsFree() async throws {
        try await GatewayHarness.with { gateway in
            guard case .sqlite(let path) = gateway.settings.database else { return }
            // Another writer on the file, on threads of its own, holds the write lock.
            let holderLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let holderThreads = NIOThreadPool(numberOfThreads: 1)
            holderThreads.start()
            let holders = Databases(threadPool: holderThreads, on: holderLoop)
            holders.use(.sqlite(.file(path)), as: .sqlite)
            // Shut down however the test ends: a pool dropped without it stops the whole test process.
            var failure: (any Error)?
            do { try await Self.holdTheLock(in: gateway, holders: holders, on: holderLoop) } catch { failure = error }
            await holders.shutdownAsync()
            try await holderThreads.shutdownGracefully()
            try await holderLoop.shutdownGracefully()
            if let failure { throw failure }
        }
    }

    /// How often the process's shared threads are asked to run something while the gateway's writers wait. The lock
    /// is held for these rounds only: SQLiteNIO's busy handler retries without sleeping, so the two waiting writers
    /// take both cores of a two-core machine from every other test in the process while it is.
    static let rounds = 3

    private static func holdTheLock(
        in gateway: GatewayHarness, holders: Databases, on holderLoop: MultiThreadedEventLoopGroup
    ) async throws {
        let holder = holders.database(logger: gateway.app.logger, on: holderLoop.next())! as! any SQLDatabase

        // The gateway writes on every connection it has, and each one waits for the lock. Each writer takes its
        // connection before the lock is: otherwise one of the gateway's own rounds (the webhook dispatcher's
        // start-up prune, the turns' lease, the recovery) could hold it, waiting for the same lock, and the test's
        // write would wait in the pool for as long as the lock is held, past AsyncKit's 10 s on a loaded machine.
        let loops = Array(gateway.app.eventLoopGroup.makeIterator())
        let connected = NIOLockedValueBox(0)
        let locked = NIOLockedValueBox(false)
        let writes = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, loop) in loops.enumerated() {
                    let database = gateway.app.databases.database(logger: gateway.app.logger, on: loop)!
                    group.addTask {
                        try await database.withConnection { connection in
                            connected.withLockedValue { $0 += 1 }
                            while !locked.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
                            try await (connection as! any SQLDatabase).raw(
                                "INSERT INTO gateway_leases (name, holder, expires_at) VALUES (\(bind: "waiting-\(index)"), 'test', \(bind: Date()))"
                            ).run()
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        // However this ends, the writers are let go: they hold the gateway's connections until then.
        defer { locked.withLockedValue { $0 = true } }
        try await gateway.waitFor("the gateway's writers to hold its connections", within: .seconds(60)) {
            connected.withLockedValue { $0 } == loops.count
        }
        try await holder.raw("BEGIN IMMEDIATE").run()
        locked.withLockedValue { $0 = true }

        // Whenever the writers reach their threads, the process's shared blocking threads still run work.
        for _ in 0..<rounds {
            try await Task.sleep(for: .milliseconds(100))
            let answered = NIOLockedValueBox(false)
            Task {
                _ = try await NIOThreadPool.singleton.runIfActive { 42 }
                answered.withLockedValue { $0 = true }
            }
            try await gateway.waitFor("the process's blocking threads, taken by writers waiting for SQLite") {
                answered.withLockedValue { $0 }
            }
            guard answered.withLockedValue({ $0 }) else { break }
        }
        // The writers could not have written while the lock was held.
        #expect(try await holder.raw("SELECT name FROM gateway_leases WHERE holder = 'test'").all().isEmpty)

        try await holder.raw("COMMIT").run()
        try await writes.value
        let rows = try await gateway.sql.raw("SELECT name FROM gateway_leases WHERE holder = 'test'").all()
        #expect(rows.count == loops.count)
    }
}
