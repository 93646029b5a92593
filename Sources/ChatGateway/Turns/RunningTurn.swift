import Foundation
import NIOConcurrencyHelpers

/// A turn this process is answering: who asked, its log, its Dify task (for stop), and what is to run when it
/// ends (its stream slot and budget hold given back, its span ended).
final class RunningTurn: Sendable {
    /// The gateway's id of the turn: the id of the user's stored message.
    let id: String
    let caller: CallerIdentity
    /// The user's message, and when it was stored.
    let question: String
    let createdAt: Date
    let log = TurnLog()
    private let state = NIOLockedValueBox(State())

    private struct State {
        var taskID: String?
        var stopRequested = false
        var clientGone = false
        var finished = false
        var finishHandlers: [@Sendable () async -> Void] = []
    }

    init(id: String, caller: CallerIdentity, question: String = "", createdAt: Date = Date()) {
        self.id = id
        self.caller = caller
        self.question = question
        self.createdAt = createdAt
    }

    var taskID: String? { state.withLockedValue { $0.taskID } }
    var stopRequested: Bool { state.withLockedValue { $0.stopRequested } }
    /// The client that started the turn went away before its end (the answer is stored all the same).
    var clientGone: Bool { state.withLockedValue { $0.clientGone } }
    func setTaskID(_ id: String?) { state.withLockedValue { $0.taskID = id } }
    func requestStop() { state.withLockedValue { $0.stopRequested = true } }
    func clientLeft() { state.withLockedValue { $0.clientGone = true } }

    /// Runs `handler` once the turn is over, at once if it already is (it may end before anyone asks).
    func onFinish(_ handler: @escaping @Sendable () async -> Void) {
        let runNow = state.withLockedValue { state -> Bool in
            if state.finished { return true }
            state.finishHandlers.append(handler)
            return false
        }
        if runNow { Task { await handler() } }
    }

    /// The turn is over: its log closes and the handlers run.
    func finish() {
        let handlers = state.withLockedValue { state -> [@Sendable () async -> Void] in
            guard !state.finished else { return [] }
            state.finished = true
            defer { state.finishHandlers = [] }
            return state.finishHandlers
        }
        log.close()
        for handler in handlers { Task { await handler() } }
    }
}
