import Foundation
import NIOConcurrencyHelpers

/// The people whose data is being erased, by system and pseudonym: their chats are refused until it ends. This
/// process's own erasures, and (on PostgreSQL) every replica's, as last read from the database.
final class ErasureGate: Sendable {
    private struct State {
        var here: [String: Int] = [:]
        var everywhere: Set<String> = []
        /// Erasures that ended here, by when (a count of ends): a read begun before then may still list them.
        var endedHere: [String: Int] = [:]
        var ends = 0
    }

    private let state = NIOLockedValueBox(State())
    let pseudonyms: Pseudonyms

    init(pseudonyms: Pseudonyms) { self.pseudonyms = pseudonyms }

    /// Whether the caller's data is being erased. Costs an HMAC only while some erasure runs.
    func isErasing(_ caller: CallerIdentity) -> Bool {
        let (here, everywhere) = state.withLockedValue { ($0.here, $0.everywhere) }
        guard !here.isEmpty || !everywhere.isEmpty else { return false }
        let key = Self.key(caller.systemID, pseudonyms.subject(systemID: caller.systemID, userID: caller.userID))
        return here[key] != nil || everywhere.contains(key)
    }

    func begin(systemID: String, subject: String) {
        state.withLockedValue { $0.here[Self.key(systemID, subject), default: 0] += 1 }
    }

    func end(systemID: String, subject: String) {
        state.withLockedValue { state in
            let key = Self.key(systemID, subject)
            state.here[key, default: 1] -= 1
            if state.here[key] == 0 { state.here[key] = nil }
            Self.markEnded(key, &state)
        }
    }

    /// The erasure's end is saved: a read of the running erasures begun before now may still list it.
    func endSaved(systemID: String, subject: String) {
        state.withLockedValue { Self.markEnded(Self.key(systemID, subject), &$0) }
    }

    private static func markEnded(_ key: String, _ state: inout State) {
        state.everywhere.remove(key)
        state.ends += 1
        state.endedHere[key] = state.ends
    }

    /// Taken before reading the running erasures, for `replaceRunningEverywhere`.
    func readStarts() -> Int { state.withLockedValue { $0.ends } }

    /// The erasures running in any replica, as read from `mark` on. One that ended here after the read began may be
    /// listed from before its receipt was saved as ended: it stays out.
    func replaceRunningEverywhere(_ running: [(systemID: String, subject: String)], readFrom mark: Int) {
        let keys = Set(running.map { Self.key($0.systemID, $0.subject) })
        state.withLockedValue { state in
            state.everywhere = keys.filter { (state.endedHere[$0] ?? mark) <= mark }
            state.endedHere = state.endedHere.filter { $0.value > mark }
        }
    }

    private static func key(_ systemID: String, _ subject: String) -> String { "\(systemID)\u{0}\(subject)" }
}
