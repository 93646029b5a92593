import Fluent
import Foundation
import SQLKit
import Testing

@testable import ChatGateway

@Suite("Shared write transactions", .hangLimit)
struct WriteBatcherTests {
    struct Failing: Error {}

    /// A write that inserts one user row named `userID`.
    static func insert(_ userID: String) -> WriteBatcher.Write {
        { sql in
            try await sql.insert(into: ChatUser.schema)
                .model(
                    UserWrite(
                        systemID: "batch", userID: userID, difyUser: "batch_\(userID)", createdAt: Date(),
                        updatedAt: Date()), nilEncodingStrategy: .asNil
                ).run()
        }
    }

    static func storedUsers(_ database: any Database) async throws -> Set<String> {
        Set(try await ChatUser.query(on: database).filter(\.$systemID == "batch").all().map(\.userID))
    }

    @Test func aFailingWriteFailsItselfAndTheOthersAreCommitted() async throws {
        try await GatewayHarness.with { gateway in
            let batcher = WriteBatcher(database: gateway.app.db)
            // Many writes at once share transactions; one of them inserts a row and then fails.
            let results = await withTaskGroup(of: (String, Bool).self) { group in
                for index in 0..<40 {
                    let userID = "u\(index)"
                    group.addTask {
                        do {
                            try await batcher.perform { sql in
                                try await Self.insert(userID)(sql)
                                if index == 17 { throw Failing() }
                            }
                            return (userID, true)
                        } catch {
                            return (userID, false)
                        }
                    }
                }
                return await group.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.count == 40)
            #expect(results.filter { !$0.value }.map(\.key) == ["u17"])
            let stored = try await Self.storedUsers(gateway.app.db)
            #expect(stored.count == 39)
            #expect(!stored.contains("u17"))  // its insert was rolled back with it
        }
    }

    @Test func aWriteBreakingAConstraintIsRefusedAlone() async throws {
        try await GatewayHarness.with { gateway in
            let batcher = WriteBatcher(database: gateway.app.db, transactions: 2)
            try await batcher.perform(Self.insert("twice"))
            let duplicate = Task { try await batcher.perform(Self.insert("twice")) }
            let fresh = Task { try await batcher.perform(Self.insert("once")) }
            await #expect(throws: (any Error).self) { try await duplicate.value }
            try await fresh.value
            let stored = try await Self.storedUsers(gateway.app.db)
            #expect(stored == ["twice", "once"])
        }
    }

    @Test func aCancelledCallerStillHasItsWriteCommitted() async throws {
        try await GatewayHarness.with { gateway in
            let batcher = WriteBatcher(database: gateway.app.db)
            let task = Task {
                try await batcher.perform { sql in
                    try await Task.sleep(for: .milliseconds(50))
                    try await Self.insert("cancelled")(sql)
                }
            }
            task.cancel()
            _ = await task.result
            let stored = try await Self.storedUsers(gateway.app.db)
            #expect(stored.contains("cancelled"))
        }
    }
}
