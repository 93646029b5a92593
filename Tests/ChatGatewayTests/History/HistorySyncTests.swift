import FakeDify
import Fluent
import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import ChatGateway

@Suite("History sync from Dify", .hangLimit)
struct HistorySyncTests {
    @Test func copiesEveryPageBothWaysAndASecondRunChangesNothing() async throws {
        try await GatewayHarness.with { gateway in
            // 17 conversations (3 pages of 7) of 16 turns (3 pages of 7 going back with first_id).
            let ids = await gateway.fake.store.seed(user: "drillquiz_alice", conversations: 17, turnsEach: 16)
            try await gateway.register("drillquiz", "alice")
            let sync = gateway.historySync()

            let first = await sync.run()
            #expect(first.errors.isEmpty)
            #expect(first.users == 1)
            #expect(first.conversationsSynced == 17)
            #expect(first.messagesAdded == 17 * 16 * 2)
            #expect(first.messagesSynced == first.messagesAdded)
            #expect(try await StoredConversation.query(on: gateway.app.db).count() == 17)
            #expect(try await StoredMessage.query(on: gateway.app.db).count() == 17 * 16 * 2)
            let oneConversation = try await StoredMessage.query(on: gateway.app.db).filter(\.$conversationID == ids[0])
                .all()
            #expect(Set(oneConversation.map(\.content)).contains("Seeded question 1.16"))
            let conversation = try #require(
                try await StoredConversation.query(on: gateway.app.db).filter(\.$conversationID == ids[0]).first())
            #expect(conversation.syncedAt != nil && conversation.name != nil && conversation.userID == "alice")

            let second = await sync.run()
            #expect(second.conversationsSynced == 0)
            #expect(second.conversationsSkipped == 17)
            #expect(second.messagesAdded == 0 && second.messagesUpdated == 0)
            #expect(try await StoredMessage.query(on: gateway.app.db).count() == 17 * 16 * 2)
        }
    }

    @Test func chatsThroughTheGatewayAreSyncedWithoutDuplicatesAndChangesAreFetchedAgain() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "bob", "message": "hello"])
            let conversationID = try #require(reply.object["conversation_id"] as? String)
            let sync = gateway.historySync()
            let first = await sync.run()
            #expect(first.users == 1)
            #expect(first.messagesAdded == 0)  // the chat already stored both sides under Dify's ids
            #expect(try await StoredMessage.query(on: gateway.app.db).count() == 2)

            try await Task.sleep(for: .milliseconds(1100))  // Dify's updated_at has one-second resolution
            _ = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: [
                    "system_id": "drillquiz", "user_id": "bob", "message": "again", "conversation_id": conversationID,
                ])
            let second = await sync.run()
            #expect(second.conversationsSynced == 1)
            #expect(second.messagesAdded == 0)
            #expect(try await StoredMessage.query(on: gateway.app.db).count() == 4)
        }
    }

    @Test func conversationsDeletedInDifyAreMarkedDeleted() async throws {
        try await GatewayHarness.with { gateway in
            let ids = await gateway.fake.store.seed(user: "drillquiz_carol", conversations: 3, turnsEach: 1)
            try await gateway.register("drillquiz", "carol")
            let sync = gateway.historySync()
            _ = await sync.run()
            try await gateway.liveDify.deleteConversation(ids[1], user: "drillquiz_carol", at: gateway.target)
            let report = await sync.run()
            #expect(report.conversationsDeleted == 1)
            let rows = try await StoredConversation.query(on: gateway.app.db).all()
            #expect(rows.filter { $0.deletedAt != nil }.map(\.conversationID) == [ids[1]])
            #expect(await sync.run().conversationsDeleted == 0)  // marked once
        }
    }

    @Test func oneUsersFailureIsReportedAndTheOthersAreSynced() async throws {
        try await GatewayHarness.with { gateway in
            for user in ["dave", "erin", "frank"] {
                await gateway.fake.store.seed(user: "drillquiz_\(user)", conversations: 2, turnsEach: 2)
                try await gateway.register("drillquiz", user)
            }
            try await gateway.register("unconfigured-system", "gina")
            let flaky = FlakyDify(
                live: gateway.liveDify,
                alwaysFailing: ["drillquiz_erin": .upstream(status: 400, code: "invalid_param", message: "broken")])
            let report = await gateway.historySync(dify: flaky).run()
            #expect(report.users == 4)
            #expect(report.conversationsSynced == 4)
            #expect(report.errors.map(\.userID).sorted() == ["erin"])
            #expect(report.errors.first?.detail.contains("400") == true)
            #expect(try await StoredConversation.query(on: gateway.app.db).count() == 4)
        }
    }

    @Test func rateLimitsAndServerErrorsAreRetriedWithBackOff() async throws {
        try await GatewayHarness.with { gateway in
            await gateway.fake.store.seed(user: "drillquiz_hank", conversations: 2, turnsEach: 1)
            try await gateway.register("drillquiz", "hank")
            let flaky = FlakyDify(live: gateway.liveDify, rateLimitedFirst: ["drillquiz_hank": 3])
            let delays = NIOLockedValueBox<[Duration]>([])
            let report = await gateway.historySync(dify: flaky, delays: delays).run()
            #expect(report.errors.isEmpty)
            #expect(report.conversationsSynced == 2)
            #expect(delays.withLockedValue { $0 } == [.milliseconds(500), .seconds(1), .seconds(2)])

            let hopeless = FlakyDify(live: gateway.liveDify, rateLimitedFirst: ["drillquiz_hank": 100])
            let failed = await gateway.historySync(dify: hopeless).run()
            #expect(failed.errors.count == 1)
            #expect(hopeless.conversationListings == RetryPolicy().maxAttempts)
        }
    }

    @Test func overlappingRunsShareOneRun() async throws {
        try await GatewayHarness.with { gateway in
            try await gateway.seedKnownUsers(20, prefix: "u", conversations: 2, turns: 3)
            let counting = FlakyDify(live: gateway.liveDify)
            let coordinator = SyncCoordinator(
                sync: gateway.historySync(dify: counting), lease: gateway.lease(holder: "replica-a"))
            async let first = coordinator.run()
            async let second = coordinator.run()
            let outcomes = try await [first, second]
            let reports = outcomes.compactMap { outcome -> SyncReport? in
                switch outcome {
                case .ran(let report), .joined(let report): report;
                case .runningElsewhere: nil
                }
            }
            #expect(outcomes.filter { if case .joined = $0 { true } else { false } }.count == 1)
            #expect(reports.count == 2 && reports[0] == reports[1])
            #expect(counting.conversationListings == 20)
            #expect(await coordinator.isRunning == false)
        }
    }

    @Test func replicasOnOneDatabaseNeverSyncAtTheSameTime() async throws {
        try await GatewayHarness.with { gateway in
            try await gateway.seedKnownUsers(10, prefix: "r", conversations: 3, turns: 5)
            let slowDify = FlakyDify(live: gateway.liveDify)
            let replicaA = SyncCoordinator(
                sync: gateway.historySync(dify: slowDify), lease: gateway.lease(holder: "replica-a"))
            let replicaB = SyncCoordinator(
                sync: gateway.historySync(dify: slowDify), lease: gateway.lease(holder: "replica-b"))
            async let a = replicaA.run()
            try await Task.sleep(for: .milliseconds(5))
            async let b = replicaB.run()
            let outcomes = try await [a, b]
            #expect(outcomes.filter { $0 == .runningElsewhere }.count == 1)
            #expect(slowDify.conversationListings == 10)
            // The lease was released: the other replica may run now.
            if case .ran = try await replicaB.run() {} else { Issue.record("replica B could not run after A finished") }
        }
    }

    @Test func anExpiredLeaseOfACrashedReplicaIsTakenOver() async throws {
        try await GatewayHarness.with { gateway in
            var crashed = gateway.lease(holder: "crashed")
            crashed.duration = -1  // already expired when taken, as if its holder died long ago
            #expect(try await crashed.acquire())
            let live = gateway.lease(holder: "live")
            #expect(try await live.acquire())
            #expect(try await gateway.lease(holder: "other").acquire() == false)
            try await live.release()
            #expect(try await gateway.lease(holder: "other").acquire())
        }
    }

    @Test func syncEndpointNeedsAnOperatorKey() async throws {
        try await GatewayHarness.with { gateway in
            await gateway.fake.store.seed(user: "drillquiz_ivy", conversations: 2, turnsEach: 2)
            try await gateway.register("drillquiz", "ivy")
            #expect(try await gateway.call(.POST, "/v1/sync").status == 401)
            #expect(try await gateway.call(.POST, "/v1/sync", headers: [("X-API-Key", "wrong")]).status == 401)
            let token = try await gateway.token(system: "drillquiz", user: "ivy")
            #expect(
                try await gateway.call(.POST, "/v1/sync", headers: [("Authorization", "Bearer \(token)")]).status == 401
            )
            let reply = try await gateway.call(.POST, "/v1/sync", headers: GatewayHarness.keyHeader)
            #expect(reply.status == 200)
            #expect(reply.object["conversations_synced"] as? Int == 2)
            #expect(reply.object["messages_synced"] as? Int == 8)
            #expect((reply.object["errors"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func runsOnItsOwnEverySyncInterval() async throws {
        try await GatewayHarness.with(adjust: { $0.syncInterval = .seconds(1) }) { gateway in
            await gateway.fake.store.seed(user: "drillquiz_jack", conversations: 1, turnsEach: 1)
            try await gateway.register("drillquiz", "jack")
            var synced = 0
            try await gateway.waitFor("a sync of its own", within: .seconds(45)) {
                synced = try await StoredConversation.query(on: gateway.app.db).filter(\.$syncedAt != nil).count()
                return synced > 0
            }
            #expect(synced == 1)
        }
    }

    @Test(arguments: [("5m", 300), ("90s", 90), ("2h", 7200), ("45", 45)])
    func syncIntervalIsParsed(raw: String, seconds: Int64) throws {
        let settings = try Settings.parse(environment: ["SYNC_INTERVAL": raw], isProduction: false)
        #expect(settings.syncInterval == .seconds(seconds))
    }

    @Test func badSyncIntervalNamesTheVariable() {
        #expect(throws: SettingsError.self) {
            try Settings.parse(environment: ["SYNC_INTERVAL": "soon"], isProduction: false)
        }
        #expect((try? Settings.parse(environment: ["SYNC_INTERVAL": "off"], isProduction: false))?.syncInterval == nil)
        #expect((try? Settings.parse(environment: [:], isProduction: false))?.syncInterval == nil)
    }

    /// Turns stored within one second (a sync, an import, a fast user) come back in the conversation's order.
    @Test func turnsOfOneSecondKeepTheirOrder() async throws {
        try await GatewayHarness.with { gateway in
            let user = HistorySync.KnownUser(systemID: "drillquiz", userID: "u1", difyUser: "drillquiz_u1")
            let conversationID = "0f6b2c1e-4a5d-4e8f-9b7a-123456789abc"
            let second = Date(timeIntervalSince1970: 1_750_000_000)
            let conversation = HistorySync.conversationWrite(
                DifyConversation(id: conversationID, name: "n", createdAt: 1_750_000_000, updatedAt: 1_750_000_000),
                user: user, updatedAt: nil, at: second)
            // Written newest first, so neither insertion order nor row id can explain a right answer.
            let messages = (0..<3).reversed().flatMap { turn in
                ["assistant", "user"].map { role in
                    HistorySync.messageWrite(
                        id: "m\(turn)_\(role)", conversationID: conversationID, user: user, role: role,
                        content: "\(role) \(turn)",
                        position: turn, createdAt: second, at: second)
                }
            }
            try await HistorySync.store(conversation, messages: messages, on: gateway.app.db)
            let reply = try await gateway.call(
                .GET, "/v1/cache/conversations/\(conversationID)/messages", headers: GatewayHarness.keyHeader)
            #expect(reply.status == 200)
            let contents = reply.array.compactMap { $0["content"] as? String }
            #expect(contents == ["user 0", "assistant 0", "user 1", "assistant 1", "user 2", "assistant 2"])
        }
    }

    /// A sync between Dify's answer to a blocking chat and the gateway recording it would store and count the turn
    /// first, and the turn's write would then fail on its message id: the sync leaves the user's conversation (and
    /// any new one) for its next round while such a turn is open.
    @Test func aTurnNotRecordedYetKeepsTheSyncOffItsConversation() async throws {
        try await GatewayHarness.with { gateway in
            let store = ConversationStore(database: gateway.app.db, now: Date.init)
            let caller = CallerIdentity(systemID: "drillquiz", userID: "u1")
            let pending = try await store.recordPendingUserMessage(
                caller, conversationID: nil, content: "asked", holder: "this-process")
            let user = HistorySync.KnownUser(systemID: "drillquiz", userID: "u1", difyUser: caller.difyUser)
            let conversationID = "0f6b2c1e-4a5d-4e8f-9b7a-123456789abd"
            let conversation = HistorySync.conversationWrite(
                DifyConversation(id: conversationID, name: "n", createdAt: 1_750_000_000, updatedAt: 1_750_000_000),
                user: user, updatedAt: nil, at: Date())
            let messages = ["user", "assistant"].map { role in
                HistorySync.messageWrite(
                    id: "m0_\(role)", conversationID: conversationID, user: user, role: role, content: role,
                    position: 0, createdAt: Date(), at: Date())
            }
            #expect(try await !HistorySync.store(conversation, messages: messages, on: gateway.app.db))
            #expect(try await StoredMessage.query(on: gateway.app.db).filter(\.$messageID == "m0_user").count() == 0)
            try await store.recordFailure(.unreachable("gone"), for: pending, caller: caller)
            #expect(try await HistorySync.store(conversation, messages: messages, on: gateway.app.db))
            #expect(try await StoredMessage.query(on: gateway.app.db).filter(\.$messageID == "m0_user").count() == 1)
        }
    }
}
