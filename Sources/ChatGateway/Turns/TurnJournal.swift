import Fluent
import Logging
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// Keeps running turns' events in the database as well as in memory: every `interval`, what each running turn
/// added since its last row (once `every` passed, or a kilobyte of text is waiting) goes in one row of its own, and
/// all those rows in one write (so a thousand streams cost one commit, not one per token); the events of turns that
/// ended are dropped. It also renews this process's lease, which tells the other
/// replicas (and this process after a crash) that its turns are still being answered.
final class TurnJournal: LifecycleHandler, Sendable {
    let registry: ChatStreamRegistry
    let store: ConversationStore
    let lease: Lease
    let interval: Duration
    /// How often one turn gets a row: often where other replicas follow it live (PostgreSQL), seldom where only a
    /// crash would read it (SQLite, one process).
    let every: Duration
    let logger: Logger
    /// The last event id stored and when, per turn that has stored events.
    private let stored = NIOLockedValueBox<[String: (id: Int, at: ContinuousClock.Instant)]>([:])
    private let loop = BackgroundLoop()

    init(
        registry: ChatStreamRegistry, store: ConversationStore, lease: Lease, interval: Duration = .milliseconds(200),
        every: Duration, logger: Logger
    ) {
        self.registry = registry
        self.store = store
        self.lease = lease
        self.interval = interval
        self.every = every
        self.logger = logger
    }

    /// The name of the lease that marks `holder`'s turns alive.
    static func leaseName(_ holder: String) -> String { "turns:" + holder }

    func didBootAsync(_ application: Application) async throws {
        // Only a serving process answers turns; commands (migrate, import-legacy, ...) touch no database for them.
        guard ChatGatewayEntrypoint.isServing(application.environment) else { return }
        _ = try? await lease.acquire()
        loop.start { await self.run() }
    }

    func shutdownAsync(_ application: Application) async {
        guard await loop.stop() else { return }
        await flush()
        try? await lease.release()
    }

    private func run() async {
        var renewed = ContinuousClock.now
        await BackgroundLoop.repeating(every: interval) {
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

    /// Stores the events running turns added since their last row, and drops those of turns that ended.
    func flush() async {
        let running = registry.running
        let known = stored.withLockedValue { $0 }
        let now = ContinuousClock.now
        var rows: [TurnEventRow] = []
        var reached: [String: (id: Int, at: ContinuousClock.Instant)] = [:]
        for turn in running {
            let last = known[turn.id]
            let (entries, _) = turn.log.held(after: last?.id ?? 0)
            guard let newest = entries.last?.id else { continue }
            var pairs: [JSONValue] = []
            var textBytes = 0
            for entry in entries {
                guard let event = entry.event.stored else { continue }
                pairs.append(.array([.number(Double(entry.id)), event]))
                if case .upstream(.answerDelta(_, let text)) = entry.event { textBytes += text.utf8.count }
            }
            // A turn with nothing to store (a blocking one) needs no clean-up either.
            guard !pairs.isEmpty || last != nil else { continue }
            if let last, now - last.at < every, textBytes < 1024 { continue }
            if !pairs.isEmpty {
                rows.append(
                    .init(turnID: turn.id, seq: newest, events: String(buffer: JSONValue.array(pairs).jsonBuffer())))
            }
            reached[turn.id] = (newest, now)
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
                    if !ended.isEmpty { try await TurnEventStore.drop(eventsOf: ended, in: sql) }
                })
            stored.withLockedValue { stored in
                for id in ended { stored[id] = nil }
                stored.merge(reached) { $0.id > $1.id ? $0 : $1 }
            }
        } catch {
            logger.warning("could not store running turns' events", metadata: ["error": .string("\(type(of: error))")])
        }
    }
}

/// A row of `gateway_turn_events`.
struct TurnEventRow: Encodable, Sendable {
    var turnID: String
    /// The last event's id in the row.
    var seq: Int
    /// `[[id, event], ...]`.
    var events: String

    enum CodingKeys: String, CodingKey { case turnID = "turn_id", seq, events }
}
