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

    private static func holdTheLock(
        in gateway: GatewayHarness, holders: Databases, on holderLoop: MultiThreadedEventLoopGroup
    ) async throws {
        let holder = holders.database(logger: gateway.app.logger, on: holderLoop.next())! as! any SQLDatabase
        try await holder.raw("BEGIN IMMEDIATE").run()

        // The gateway writes on every connection it has; each one waits for the lock.
        let loops = Array(gateway.app.eventLoopGroup.makeIterator())
        let writes = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, loop) in loops.enumerated() {
                    let database = gateway.app.databases.database(logger: gateway.app.logger, on: loop)!
                    group.addTask {
                        try await (database as! any SQLDatabase).raw(
                            "INSERT INTO gateway_leases (name, holder, expires_at) VALUES (\(bind: "waiting-\(index)"), 'test', \(bind: Date()))"
                        ).run()
                    }
                }
                try await group.waitForAll()
            }
        }
        // Whenever the writers reach their threads, the process's shared blocking threads still run work.
        for _ in 0..<10 {
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

        try await holder.raw("COMMIT").run()
        try await writes.value
        let rows = try await gateway.sql.raw("SELECT name FROM gateway_leases WHERE holder = 'test'").all()
        #expect(rows.count == loops.count)
    }
}
