import NIOConcurrencyHelpers

/// A running turn's events, numbered from 1, held in memory until the turn ends. The task reading Dify appends;
/// the client that asked, a reattached client and a second tab each read it from their own place, so none of them
/// ever waits for another, and the reading task never waits for any of them.
final class TurnLog: Sendable {
    struct Entry: Sendable, Equatable {
        /// The SSE `id:` of the entry's events.
        let id: Int
        let event: TurnEvent
    }

    private struct State {
        var entries: [Entry] = []
        var text = ""
        var closed = false
        var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextReader = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Adds an event and wakes every waiting reader; returns its id.
    @discardableResult
    func append(_ event: TurnEvent) -> Int {
        let (id, readers) = state.withLockedValue { state -> (Int, [CheckedContinuation<Void, Never>]) in
            let id = state.entries.count + 1
            state.entries.append(Entry(id: id, event: event))
            event.fold(into: &state.text)
            guard !state.waiting.isEmpty else { return (id, []) }
            defer { state.waiting.removeAll(keepingCapacity: true) }
            return (id, Array(state.waiting.values))
        }
        for reader in readers { reader.resume() }
        return id
    }

    /// No more events will come: readers finish once they have read everything.
    func close() {
        let readers = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.closed = true
            defer { state.waiting.removeAll() }
            return Array(state.waiting.values)
        }
        for reader in readers { reader.resume() }
    }

    /// The id the next event will get.
    var nextID: Int { state.withLockedValue { $0.entries.count + 1 } }
    var isClosed: Bool { state.withLockedValue { $0.closed } }
    /// The answer so far, and the id of the last event it includes.
    var textSoFar: (text: String, lastEventID: Int) { state.withLockedValue { ($0.text, $0.entries.count) } }

    /// The entries after `id`, and whether the log is closed (then there will be no more).
    func held(after id: Int) -> (entries: ArraySlice<Entry>, closed: Bool) {
        state.withLockedValue { state in
            // A copy of the new entries only: a slice of the log would make the next append copy all of it.
            (ArraySlice(Array(state.entries[min(max(id, 0), state.entries.count)...])), state.closed)
        }
    }

    /// A number for `wait`, one per reader.
    func newReader() -> Int {
        state.withLockedValue { state in
            defer { state.nextReader += 1 }
            return state.nextReader
        }
    }

    /// Returns when there are entries after `id`, the log is closed, or `wake(reader)` was called.
    func wait(after id: Int, reader: Int) async {
        await withCheckedContinuation { continuation in
            let ready = state.withLockedValue { state -> Bool in
                if state.closed || state.entries.count > id { return true }
                state.waiting[reader] = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }

    /// Ends a reader's `wait` early (its keep-alive is due).
    func wake(reader: Int) {
        state.withLockedValue { $0.waiting.removeValue(forKey: reader) }?.resume()
    }
}
