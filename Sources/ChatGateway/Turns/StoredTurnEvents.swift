import Foundation

/// A turn's entries read from the database, polled: a turn running on another replica (its events as that
/// replica stores them), or one that ended (then what the reader missed comes as one `sync`, then the ending).
struct StoredTurnEvents: TurnEventSource {
    let rowID: UUID
    let store: TurnEventStore
    var poll: Duration = .milliseconds(250)

    func entries(after id: Int) async throws -> (entries: ArraySlice<TurnLog.Entry>, finished: Bool) {
        guard let turn = try await store.turn(rowID) else { return ([], true) }
        guard let ending = turn.ending else {
            return (ArraySlice(try await store.events(of: turn.id, after: id)), false)
        }
        let last = turn.lastEventID ?? 1
        if id == last { return ([], true) }
        // Ids past the ending: a crashed process sent events its journal never stored. The answer, numbered on.
        if id > last {
            return (
                [
                    .init(id: id + 1, event: .sync(text: turn.answer, ids: turn.ids)),
                    .init(id: id + 2, event: .ended(ending)),
                ], true
            )
        }
        // The journal may still hold what the reader missed (its rows go at the next flush): then exactly those.
        let journaled = try await store.events(of: turn.id, after: id)
        if !journaled.isEmpty, journaled.map(\.id) == Array((id + 1)..<last) {
            return (ArraySlice(journaled + [.init(id: last, event: .ended(ending))]), true)
        }
        var entries: [TurnLog.Entry] = []
        if id == 0, last > 1, let ids = turn.ids { entries.append(.init(id: 1, event: .started(ids))) }
        if last - 1 > max(id, entries.last?.id ?? 0) {
            entries.append(.init(id: last - 1, event: .sync(text: turn.answer, ids: turn.ids)))
        }
        entries.append(.init(id: last, event: .ended(ending)))
        return (ArraySlice(entries), true)
    }

    func wait(after id: Int, reader: Int) async { try? await Task.sleep(for: poll) }
    func wake(reader: Int) {}
    func newReader() -> Int { 0 }
}

/// Finds a turn's events for a reader: its log when it runs in this process, else the database.
struct TurnReaders: Sendable {
    let registry: ChatStreamRegistry
    let store: TurnEventStore

    func source(for rowID: UUID) -> any TurnEventSource {
        registry.turn(rowID.uuidString.lowercased())?.log ?? StoredTurnEvents(rowID: rowID, store: store)
    }

    /// Waits until the turn is over, up to `limit`; the turn as stored then (over or not).
    func waitForEnd(of rowID: UUID, upTo limit: Duration) async throws -> StoredTurn? {
        let deadline = ContinuousClock.now + limit
        while true {
            if let log = registry.turn(rowID.uuidString.lowercased())?.log {
                let reader = log.newReader()
                let timer = Task {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    log.wake(reader: reader)
                }
                while !log.isClosed, ContinuousClock.now < deadline {
                    await log.wait(after: log.nextID - 1, reader: reader)
                }
                timer.cancel()
            }
            let turn = try await store.turn(rowID)
            guard let turn, !turn.status.isFinal else { return turn }
            guard ContinuousClock.now < deadline else { return turn }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}

/// A turn still being answered, as the listings show it.
struct InProgressTurn: Sendable {
    let id: String
    var conversationID: String?
    var status: TurnStatus
    /// Dify's message id, once Dify named the turn.
    var messageID: String?
    let question: String
    let createdAt: Date
    /// The user message's id as the listings show it: `<message id>_user`, or the placeholder before Dify named it.
    var userRowID: String
    /// On a question asked again: the Dify message id of its first attempt.
    var regenerates: String? = nil
}

extension TurnReaders {
    /// A user's turns in progress: those the database says some process holds, and this process's own, whose
    /// start may not be stored yet.
    func inProgress(for caller: CallerIdentity) async throws -> [InProgressTurn] {
        var turns: [String: InProgressTurn] = [:]
        for row in try await store.inProgress(systemID: caller.systemID, userID: caller.userID) {
            guard let rowID = row.id else { continue }
            let id = rowID.uuidString.lowercased()
            turns[id] = InProgressTurn(
                id: id, conversationID: row.conversationID,
                status: row.turnStatus.flatMap(TurnStatus.init(rawValue:)) ?? .accepted,
                messageID: row.turnMessageID,
                question: row.content, createdAt: row.createdAt, userRowID: row.messageID,
                regenerates: row.regenerates)
        }
        for running in registry.running where running.caller == caller && !running.log.isClosed {
            var turn =
                turns[running.id]
                ?? InProgressTurn(
                    id: running.id, status: .accepted, question: running.question, createdAt: running.createdAt,
                    userRowID: "\(running.id)_user")
            if case .started(let ids)? = running.log.held(after: 0).entries.first?.event {
                turn.conversationID = ids.conversationID
                turn.messageID = ids.messageID
                turn.status = .streaming
                turn.userRowID = "\(ids.messageID)_user"
            }
            turns[running.id] = turn
        }
        return turns.values.sorted { $0.createdAt < $1.createdAt }
    }

    /// The answer so far of a turn in progress, and the id of the last event in it: from its log when it runs
    /// here, else from the database.
    func textSoFar(of turnID: String) async throws -> (text: String, lastEventID: Int) {
        if let log = registry.turn(turnID)?.log { return log.textSoFar }
        return try await store.textSoFar(of: turnID)
    }
}
