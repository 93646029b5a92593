import Fluent
import Foundation
import Logging
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// Starts erasures and sees them through: one job per erasure, under a lease of its own, so that after a crash
/// another replica (or this one, restarted) resumes it. On PostgreSQL it also reads which erasures run anywhere,
/// for the gate that refuses their users' chats.
final class Erasures: LifecycleHandler, Sendable {
    let erasure: UserErasure
    /// Refuses the chats of the people being erased.
    let gate: ErasureGate
    let holder: String
    let poll: Duration?
    /// The erasures this process runs, by id.
    private let jobs = NIOLockedValueBox<Set<String>>([])
    private let watch = BackgroundLoop()

    /// `poll`: how often to read the running erasures (PostgreSQL); nil: once, at start-up (SQLite, one process).
    init(erasure: UserErasure, gate: ErasureGate, holder: String, poll: Duration?) {
        self.erasure = erasure
        self.gate = gate
        self.holder = holder
        self.poll = poll
    }

    var pseudonyms: Pseudonyms { gate.pseudonyms }

    /// Starts erasing the user, or finds the erasure of them already running; its receipt so far.
    func request(systemID: String, userID: String, requestedBy: String) async throws -> (ErasureReceipt, created: Bool)
    {
        let conversation = try await erasure.database().select().column("conversation_id")
            .from(StoredConversation.schema).owned(bySystem: systemID, user: userID).where(
                "legal_hold_at", .isNot, SQLLiteral.null
            ).first()
        if let conversation {
            throw LifecycleError.legalHold(
                conversationID: try conversation.decode(column: "conversation_id", as: String.self))
        }
        let stamp = erasure.now()
        let fresh = ErasureReceipt(
            id: UUID.prefixedID("era_", at: stamp), status: .running, systemID: systemID,
            subject: pseudonyms.subject(systemID: systemID, userID: userID), requestedBy: requestedBy,
            startedAt: ISO8601.string(stamp))
        let (receipt, created) = try await erasure.erasures.start(fresh, userID: userID, at: stamp)
        if created { launch(receipt, userID: userID) }
        return (receipt, created)
    }

    /// Runs the erasure, its user's chats refused until it ends (from this moment, not from its first step); without
    /// a user id (it got as far as forgetting them), only its last step.
    private func launch(_ receipt: ErasureReceipt, userID: String?) {
        let lease = Lease(
            name: "erasure:\(receipt.id)", holder: holder, database: { self.erasure.database() as! any Database },
            now: erasure.now)
        guard jobs.withLockedValue({ $0.insert(receipt.id).inserted }) else { return }
        gate.begin(systemID: receipt.systemID, subject: receipt.subject)
        let ended = NIOLockedValueBox(false)
        // Ends the gate once: just before the receipt is saved as ended, or when the job stops without saving it.
        let ending: @Sendable () -> Void = { [gate] in
            let first = ended.withLockedValue { ended in
                defer { ended = true }
                return !ended
            }
            if first { gate.end(systemID: receipt.systemID, subject: receipt.subject) }
        }
        Task {
            defer {
                ending()
                gate.endSaved(systemID: receipt.systemID, subject: receipt.subject)
                _ = jobs.withLockedValue { $0.remove(receipt.id) }
            }
            _ = try? await lease.whileHeld {
                guard let userID else { return try? await self.erasure.finish(receipt, ending: ending) }
                return await self.erasure.run(receipt, userID: userID, ending: ending)
            }
        }
    }

    /// Reads the running erasures: the gate learns of other replicas', and any whose job stopped (a crash) is resumed:
    /// with `resumingAll` (one process, just started) every one.
    func refresh(resumingAll: Bool = false) async {
        let mark = gate.readStarts()
        guard let running = try? await erasure.erasures.running() else { return }
        gate.replaceRunningEverywhere(running.map { ($0.receipt.systemID, $0.receipt.subject) }, readFrom: mark)
        let stale = erasure.now().addingTimeInterval(-Self.staleAfter)
        for erasure in running where resumingAll || erasure.updatedAt < stale {
            launch(erasure.receipt, userID: erasure.userID)
        }
    }

    /// A running erasure whose receipt has not moved for this long lost its job; its lease has expired by then.
    static let staleAfter: TimeInterval = 150

    func didBootAsync(_ application: Application) async throws {
        // Commands (migrate, purge, ...) resume no erasure.
        guard ChatGatewayEntrypoint.isServing(application.environment) else { return }
        let poll = self.poll
        watch.start {
            await self.refresh(resumingAll: poll == nil)
            guard let poll else { return }
            await BackgroundLoop.repeating(every: poll) { await self.refresh() }
        }
    }

    /// Running jobs are not waited for: their leases expire and the erasures are resumed after the restart.
    func shutdownAsync(_ application: Application) async {
        await watch.stop()
    }
}
