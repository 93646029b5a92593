import Fluent
import Foundation
import Logging
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// Finishes the turns a process left running when it died: at start-up and every lease interval, on every replica.
/// A turn is orphaned when the lease of the process that ran it has run out. For a turn Dify named, Dify is asked
/// for the conversation's messages: the answer Dify stored for that message is stored and the turn is `completed`.
/// A turn Dify has no answer for once `bound` has passed since it was asked is `interrupted`, with what had
/// arrived. Otherwise it waits for the next round.
struct TurnRecovery: LifecycleHandler {
    let database: @Sendable () -> any Database
    let store: ConversationStore
    let turns: TurnEventStore
    let dify: any DifyClient
    let targets: DifyTargetResolver
    /// This process: its own turns are orphans only when they are no longer running here (their last write failed).
    let holder: String
    let runningHere: @Sendable (String) -> Bool
    let now: @Sendable () -> Date
    let bound: Duration
    let interval: Duration
    let logger: Logger
    private let loop = BackgroundLoop()

    init(
        database: @escaping @Sendable () -> any Database, store: ConversationStore, turns: TurnEventStore,
        dify: any DifyClient, targets: DifyTargetResolver, holder: String,
        runningHere: @escaping @Sendable (String) -> Bool, now: @escaping @Sendable () -> Date, bound: Duration,
        interval: Duration, logger: Logger
    ) {
        (self.database, self.store, self.turns, self.dify, self.targets) = (database, store, turns, dify, targets)
        self.runningHere = runningHere
        (self.holder, self.now, self.bound, self.interval, self.logger) = (holder, now, bound, interval, logger)
    }

    func didBootAsync(_ application: Application) async throws {
        // Only a serving process answers turns; commands (migrate, import-legacy, ...) touch no database for them.
        guard ChatGatewayEntrypoint.isServing(application.environment) else { return }
        loop.start {
            await recoverOnce()
            await BackgroundLoop.repeating(every: interval) { await recoverOnce() }
        }
    }

    /// Waits for a round under way: the databases close after this, and a round must not outlive them.
    func shutdownAsync(_ application: Application) async {
        await loop.stop()
    }

    /// One round; returns how many turns it ended.
    @discardableResult
    func recoverOnce() async -> Int {
        var ended = 0
        do {
            for rowID in try await orphans() {
                guard let turn = try await turns.turn(rowID), let holder = turn.holder else { continue }
                do {
                    if try await recover(turn, from: holder) { ended += 1 }
                } catch is TurnFinal.NotHeld {
                    continue  // another replica recorded it first
                } catch {
                    logger.warning(
                        "could not recover a turn",
                        metadata: ["turn_id": .string(turn.id), "error": .string("\(type(of: error))")])
                }
            }
            try await dropEventsOfEndedTurns()
        } catch {
            logger.warning("could not look for orphaned turns", metadata: ["error": .string("\(type(of: error))")])
        }
        return ended
    }

    /// A process that died between a turn's last write and its next journal write left the turn's events behind.
    private func dropEventsOfEndedTurns() async throws {
        let sql = database() as! any SQLDatabase
        let journaled = try await sql.select().distinct().column("turn_id").from(TurnEventStore.schema).all()
            .map { try $0.decode(column: "turn_id", as: String.self) }
        for start in stride(from: 0, to: journaled.count, by: 200) {
            let turnIDs = journaled[start..<min(start + 200, journaled.count)]
            let running = Set(
                try await sql.select().column("id").from(StoredMessage.schema)
                    .where("id", .in, SQLBind.group(turnIDs.compactMap(UUID.init(uuidString:))))
                    .where("turn_holder", .isNot, SQLLiteral.null).all()
                    .map { try $0.decode(column: "id", as: UUID.self).uuidString.lowercased() })
            let ended = turnIDs.filter { !running.contains($0) && !runningHere($0) }
            guard !ended.isEmpty else { continue }
            try await store.write(
                "drop turn events", returning: { try await TurnEventStore.drop(eventsOf: ended, in: $0) })
        }
    }

    private func orphans() async throws -> [UUID] {
        let sql = database() as! any SQLDatabase
        let others = try await sql.raw(
            """
            SELECT m.id FROM \(ident: StoredMessage.schema) m WHERE m.turn_holder IS NOT NULL AND m.turn_holder <> \(bind: holder)
            AND NOT EXISTS (SELECT 1 FROM \(ident: Lease.schema) l WHERE l.name = \(bind: TurnJournal.leaseName("")) || m.turn_holder AND l.expires_at > \(bind: now()))
            LIMIT 100
            """
        ).all().map { try $0.decode(column: "id", as: UUID.self) }
        // This process's own, past the bound and no longer running: their last write failed.
        let stale = now().addingTimeInterval(-Double(bound.components.seconds))
        let own = try await sql.select().column("id").from(StoredMessage.schema)
            .where("turn_holder", .equal, SQLBind(holder)).where("created_at", .lessThan, SQLBind(stale)).limit(100)
            .all().map { try $0.decode(column: "id", as: UUID.self) }
            .filter { !runningHere($0.uuidString.lowercased()) }
        return others + own
    }

    private func recover(_ turn: StoredTurn, from holder: String) async throws -> Bool {
        let caller = CallerIdentity(systemID: turn.systemID, userID: turn.userID)
        var (partial, lastEventID) = try await turns.textSoFar(of: turn.id)
        var ending: TurnEnding?
        // A turn Dify never named cannot be told apart from an earlier one with the same question: it waits for
        // the bound. One it named is Dify's message with that id.
        if let ids = turn.ids {
            let messages = try await dify.allMessages(
                conversationID: ids.conversationID, user: caller.difyUser,
                at: try targets.target(forSystem: turn.systemID))
            if let found = messages.first(where: { $0.id == ids.messageID }), let answer = found.answer,
                !answer.isEmpty
            {
                // Dify marks a generation that failed `error`, keeping what it produced; a stopped one as finished.
                if found.status == "error" {
                    ending = .interrupted(
                        ids: ids, reason: "Dify's answer failed: \(found.error ?? "no reason given")")
                } else {
                    let stopped =
                        if let taskID = ids.taskID { try await store.stopRequested(ofTask: taskID) } else { false }
                    ending = .completed(ids, answer: answer, metadata: .object([:]), stopped: stopped)
                }
                partial = answer
            }
        }
        if ending == nil, now().timeIntervalSince(turn.createdAt) > Double(bound.components.seconds) {
            ending = .interrupted(
                ids: turn.ids, reason: "The gateway stopped during the answer, and Dify has no complete answer for it.")
        }
        guard let ending else { return false }
        let pending = ConversationStore.PendingMessage(
            rowID: turn.rowID, conversationID: turn.conversationID, systemID: turn.systemID, createdAt: turn.createdAt,
            idempotency: nil, question: turn.content, channel: turn.channel)
        try await store.recordTurnEnded(
            ending, partialAnswer: partial, lastEventID: lastEventID + 1, for: pending, caller: caller,
            expectedHolder: holder)
        try await store.write(
            "drop turn events", returning: { try await TurnEventStore.drop(eventsOf: [turn.id], in: $0) })
        logger.info(
            "recovered an orphaned turn",
            metadata: ["turn_id": .string(turn.id), "status": .string(ending.status.rawValue)])
        return true
    }
}
