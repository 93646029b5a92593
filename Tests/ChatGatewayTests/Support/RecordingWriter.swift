import NIOConcurrencyHelpers
import NIOCore
import Testing
import Vapor

/// Stands in for Vapor's response body writer: records each write; can hold the first one (a slow client) or
/// fail every write (a client that went away).
final class RecordingWriter: AsyncBodyStreamWriter, Sendable {
    private struct State {
        var writes: [String] = []
        var ended = false
        var errored = false
        var released = false
    }

    private let state = NIOLockedValueBox(State())
    private let holdFirstWrite: Bool
    private let failWrites: Bool

    init(holdFirstWrite: Bool = false, failWrites: Bool = false) {
        self.holdFirstWrite = holdFirstWrite
        self.failWrites = failWrites
    }

    var writes: [String] { state.withLockedValue { $0.writes } }
    var text: String { writes.joined() }
    var ended: Bool { state.withLockedValue { $0.ended } }
    var errored: Bool { state.withLockedValue { $0.errored } }
    func release() { state.withLockedValue { $0.released = true } }

    func write(_ result: BodyStreamResult) async throws {
        switch result {
        case .buffer(let buffer):
            if failWrites { throw ClientGone() }
            let first = state.withLockedValue { state in
                state.writes.append(String(buffer: buffer))
                return state.writes.count == 1
            }
            if first && holdFirstWrite {
                while !state.withLockedValue({ $0.released }) { try await Task.sleep(for: .milliseconds(5)) }
            }
        case .end:
            state.withLockedValue { $0.ended = true }
        case .error:
            state.withLockedValue { $0.errored = true }
        }
    }

    /// Waits (up to 5 s) until `count` writes were made.
    func waitForWrites(_ count: Int) async throws {
        for _ in 0..<500 where writes.count < count { try await Task.sleep(for: .milliseconds(10)) }
        #expect(writes.count >= count)
    }

    struct ClientGone: Error {}
}
