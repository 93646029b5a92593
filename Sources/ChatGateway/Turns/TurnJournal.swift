import Fluent
import Logging
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// Keeps running turns' events in the database as well as in memory: every `interval`, what each running turn
/// added since goes in one write for all of them (so a thousand streams cost one commit, not one per token), and
/// the events of turns that ended are dropped. It also renews this process's lease, which tells the other
/// replicas (and this process after a crash) that its turns are still being answered.
final class TurnJournal: LifecycleHandler, Sendable {
    let registry: ChatStreamRegistry
    let store: ConversationStore
    let lease: Lease
    let interval: Duration
    let logger: Logger
    /// The last event id stored, per turn that has stored events.
    private let stored = NIOLockedValueBox<[String: Int]>([:])
    private let task = NIOLockedValueBox<Task<Void, Never>?>(nil)

    init(
        registry: ChatStreamRegistry, store: ConversationStore, lease: Lease, interval: Duration = .milliseconds(200),
        logger: Logger
    ) {
        self.registry = registry
        self.store = store
        self.lease = lease
        self.interval = interval
        self.logger = logger
    }

    /// The name of the lease that marks `holder`'s turns alive.
    static func leaseName(_ holder: String) -> String { "turns:" + holder }

    func didBootAsync(_ application: Application) async throws {
        _ = try? await lease.acquire()
        task.withLockedValue { $0 = Task { await self.run() } }
    }

    func shutdownAsync(_ application: Application) async {
        task.withLockedValue { $0 }?.cancel()
        await task.withLockedValue { $0 }?.value
        await flush()
        try? await lease.release()
    }

    private func run() async {
        var renewed = ContinuousClock.now
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { return }
            await flush()
            if ContinuousClock.now - renewed >= .seconds(lease.duration / 3) {
                do {
                    _ = try await lease.acquire()
                    renewed = .now
                } catch {
                    logger.warning(
                        "could not renew the turns' lease", metadata: ["error": .string("\(type(of: error))")])
                }
            }
        }
    }

    /// Stores the events running turns added since the last flush, and drops those of turns that ended.
    func flush() async {
        let running = registry.running
        let known = stored.withLockedValue { $0 }
        var rows: [TurnEventRow] = []
        var reached: [String: Int] = [:]
        for turn in running {
            let from = known[turn.id] ?? 0
            let (entries, _) = turn.log.held(after: from)
            let before = rows.count
            for entry in entries {
                if let event = entry.event.stored { rows.append(.init(turnID: turn.id, seq: entry.id, event: event)) }
            }
            // A turn with nothing stored (a blocking one) needs no clean-up either.
            if let last = entries.last?.id, rows.count > before || known[turn.id] != nil { reached[turn.id] = last }
        }
        let runningIDs = Set(running.map(\.id))
        let ended = known.keys.filter { !runningIDs.contains($0) }
        guard !rows.isEmpty || !ended.isEmpty else { return }
        let newRows = rows
        do {
            try await store.write(
                "store turn events",
                returning: { sql in
                    try await sql.upsert(newRows, into: TurnEventStore.schema, onConflict: ["turn_id", "seq"])
                    if !ended.isEmpty {
                        try await sql.delete(from: TurnEventStore.schema).where("turn_id", .in, SQLBind.group(ended))
                            .run()
                    }
                })
            stored.withLockedValue { stored in
                for id in ended { stored[id] = nil }
                stored.merge(reached) { max($0, $1) }
            }
        } catch {
            logger.warning("could not store running turns' events", metadata: ["error": .string("\(type(of: error))")])
        }
    }
}

/// A row of `gateway_turn_events`.
struct TurnEventRow: Encodable, Sendable {
    var turnID: String
    var seq: Int
    var event: String

    enum CodingKeys: String, CodingKey { case turnID = "turn_id", seq, event }
}
