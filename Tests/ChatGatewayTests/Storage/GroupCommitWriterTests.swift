import Fluent
import Foundation
import Testing
@testable import ChatGateway

@Suite("Group commit of chat writes")
struct GroupCommitWriterTests {
    private static func caller(_ user: Int) -> CallerIdentity {
        CallerIdentity(systemID: "drillquiz", userID: "user-\(user)")
    }

    /// Several batches in flight is how PostgreSQL runs; one is how SQLite does (but it must work there too).
    @Test(arguments: [true, false], [1, 4])
    func concurrentChatsAreAllStoredAndUsersOnce(atomicBatches: Bool, batchesInFlight: Int) async throws {
        try await GatewayHarness.with { harness in
            let writer = GroupCommitWriter(
                database: { harness.app.db }, atomicBatches: atomicBatches, maxBatchesInFlight: batchesInFlight, logger: harness.app.logger)
            let store = ConversationStore(database: harness.app.db, writer: writer, now: Date.init)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<200 {
                    group.addTask { _ = try await store.recordPendingUserMessage(Self.caller(index % 20), conversationID: nil, content: "m\(index)") }
                }
                try await group.waitForAll()
            }
            #expect(try await StoredMessage.query(on: harness.app.db).count() == 200)
            #expect(try await ChatUser.query(on: harness.app.db).count() == 20)
            let contents = Set(try await StoredMessage.query(on: harness.app.db).all().map(\.content))
            #expect(contents == Set((0..<200).map { "m\($0)" }))
        }
    }

    @Test(arguments: [true, false]) func oneBadRowFailsOnlyItsOwnCaller(atomicBatches: Bool) async throws {
        try await GatewayHarness.with { harness in
            let writer = GroupCommitWriter(database: { harness.app.db }, atomicBatches: atomicBatches, logger: harness.app.logger)
            let store = ConversationStore(database: harness.app.db, writer: writer, now: Date.init)
            let existing = try await store.recordPendingUserMessage(Self.caller(1), conversationID: nil, content: "first")
            // A second plain insert of the same message id breaks the unique key.
            let duplicate = ConversationStore.messageRow(existing, shape: ConversationStore.newMessage)
            let duplicateRow = RowUpsert(shape: duplicate.shape, key: UUID().uuidString, values: [UUID()] + duplicate.values.dropFirst())
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                group.addTask { (try? await writer.write([duplicateRow])) != nil }
                for index in 0..<50 {
                    group.addTask { (try? await store.recordPendingUserMessage(Self.caller(index), conversationID: nil, content: "ok\(index)")) != nil }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(outcomes.filter { !$0 }.count == 1)
            #expect(try await StoredMessage.query(on: harness.app.db).count() == 51)
        }
    }

    /// Without a transaction per batch, a batch can fail after its first statements committed; retrying each job
    /// must then find its own rows already there and still succeed.
    @Test func aBatchFailingAfterPartOfItCommittedIsRetriedCleanly() async throws {
        try await GatewayHarness.with { harness in
            let writer = GroupCommitWriter(database: { harness.app.db }, atomicBatches: false, logger: harness.app.logger)
            let store = ConversationStore(database: harness.app.db, writer: writer, now: Date.init)
            let taken = try await store.recordPendingUserMessage(Self.caller(0), conversationID: nil, content: "taken")
            // A later-ordered statement (an answered message) that breaks the unique message id.
            let clash = MessageRecord(messageID: taken.messageID, conversationID: "c", systemID: "drillquiz", userID: "user-0",
                                      role: "user", content: "clash", status: .complete, createdAt: Date())
            let clashRow = ConversationStore.messageRow(clash, shape: ConversationStore.answeredMessage)
            // A big write holds the writer, so everything sent meanwhile forms one batch: pending messages
            // (committed by the batch's first statements) and the clash (failing its last one).
            let filler = (0..<2_000).map { ConversationStore.userRow(Self.caller(1_000 + $0), at: Date()) }
            async let held: Void = writer.write(filler)
            try await Task.sleep(for: .milliseconds(1))
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<30 {
                    group.addTask { (try? await store.recordPendingUserMessage(Self.caller(index), conversationID: nil, content: "ok\(index)")) != nil }
                }
                group.addTask { (try? await writer.write([clashRow])) != nil }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            try await held
            #expect(outcomes.filter { !$0 }.count == 1)
            #expect(try await StoredMessage.query(on: harness.app.db).count() == 31)
        }
    }

    @Test(arguments: [true, false]) func aStreamsEndWinsOverItsStartWhateverTheBatching(atomicBatches: Bool) async throws {
        try await GatewayHarness.with { harness in
            let writer = GroupCommitWriter(database: { harness.app.db }, atomicBatches: atomicBatches, logger: harness.app.logger)
            let store = ConversationStore(database: harness.app.db, writer: writer, now: Date.init)
            let conversationID = UUID().uuidString.lowercased()
            for turn in 0..<20 {
                let caller = Self.caller(turn)
                let pending = try await store.recordPendingUserMessage(caller, conversationID: nil, content: "q\(turn)")
                async let started: Void = store.recordStreamStarted(conversationID: conversationID, messageID: "msg-\(turn)", taskID: "task-\(turn)", for: pending, caller: caller)
                try await Task.sleep(for: .microseconds(turn * 50))
                async let finished: Void = store.recordStreamFinished(
                    conversationID: conversationID, messageID: "msg-\(turn)", taskID: "task-\(turn)", caller: caller,
                    answer: "answer \(turn)", status: .complete, error: nil)
                _ = try await (started, finished)
            }
            let answers = try await StoredMessage.query(on: harness.app.db).filter(\.$role == "assistant").all()
            #expect(answers.count == 20)
            #expect(answers.allSatisfy { $0.status == .complete && $0.content.hasPrefix("answer ") })
            let questions = try await StoredMessage.query(on: harness.app.db).filter(\.$role == "user").all()
            #expect(questions.allSatisfy { $0.status == .complete && $0.messageID.hasSuffix("_user") })
            #expect(try await StoredConversation.query(on: harness.app.db).count() == 1)
        }
    }

    @Test func rowsOfOneShapeShareAStatementAndRepeatsMerge() {
        let first = ConversationStore.userRow(Self.caller(1), at: Date(timeIntervalSince1970: 1))
        let again = ConversationStore.userRow(Self.caller(1), at: Date(timeIntervalSince1970: 2))
        let other = ConversationStore.userRow(Self.caller(2), at: Date(timeIntervalSince1970: 3))
        let message = MessageRecord(messageID: "local-1", conversationID: nil, systemID: "drillquiz", userID: "user-1",
                                    role: "user", content: "hi", status: .pending, createdAt: Date())
        let statements = RowUpsert.statements(for: [ConversationStore.messageRow(message, shape: ConversationStore.newMessage), first, again, other])
        #expect(statements.map(\.shape.order) == [0, 1])
        #expect(statements[0].rows.count == 2)
        #expect(statements[0].rows[0].values[4] as? Date == Date(timeIntervalSince1970: 2))
        #expect(RowUpsert.statements(for: Array(repeating: other, count: 1) + (0..<1200).map { ConversationStore.userRow(Self.caller($0 + 10), at: Date()) }).count == 3)
    }
}
