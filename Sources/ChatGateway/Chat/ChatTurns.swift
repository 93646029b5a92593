import Foundation
import Logging

/// One chat turn through the gateway's limits, for `/v1/chat` and `/dify/v1/chat-messages` alike: a repeated
/// `Idempotency-Key` answered from its first turn, before any limit counts it; otherwise admitted (rate limits,
/// streams per user, shutdown), then streamed or answered by `ChatService`, and counted when refused.
struct ChatTurns: Sendable {
    let admission: ChatAdmission
    let chats: ChatService
    let metrics: GatewayMetrics
    let readers: TurnReaders
    let claims = IdempotencyClaims()
    /// How long a repeated blocking request waits for the first one's answer (`IDEMPOTENCY_WAIT`).
    let idempotencyWait: Duration
    /// How long a key is remembered (`IDEMPOTENCY_TTL`).
    let idempotencyTTL: Duration
    let now: @Sendable () -> Date

    struct Turn: Sendable {
        var message: String
        var conversationID: String?
        var inputs: [String: JSONValue] = [:]
        /// Dify's other chat fields, passed on (`/dify/v1`).
        var extra: [String: JSONValue] = [:]
        /// What one wire adds to a turn (`/openai/v1`).
        var options = ChatService.TurnOptions()
    }

    enum Outcome: Sendable {
        /// A stream to read from `source`; `turn` when this request started it.
        case stream(source: any TurnEventSource, turnID: String, turn: RunningTurn?, replayed: Bool)
        case answer(DifyChatAnswer, turnID: String, replayed: Bool)
        /// A repeated request whose first one failed: the same failure again.
        case failure(DifyError, turnID: String)
    }

    /// What webhooks call the wire: the chat page holds a chat token, a client backend an API key.
    static func channel(wire: String, caller: CallerIdentity) -> String {
        wire == "v1" ? (caller.isChatToken ? "page" : "/v1") : "/\(wire)/v1"
    }

    func run(
        _ turn: Turn, as caller: CallerIdentity, streaming: Bool, idempotencyKey: String? = nil,
        wire: String = "v1", logger: Logger
    ) async throws -> Outcome {
        let record = try IdempotencyRecord.parse(
            idempotencyKey, caller: caller, request: turn, streaming: streaming, wire: wire)
        if let record, let first = try await firstTurn(holding: record) {
            return try await repeated(first, record: record, streaming: streaming)
        }
        var turn = turn
        turn.options.channel = Self.channel(wire: wire, caller: caller)
        let claiming = record.map { claims.begin($0.keyHash) } ?? false
        defer { if claiming, let record { claims.end(record.keyHash) } }
        do {
            try await admission.admit(caller)
            if streaming {
                let running = try await admission.stream(for: caller) {
                    try await chats.stream(
                        turn.message, conversationID: turn.conversationID, inputs: turn.inputs, extra: turn.extra,
                        options: turn.options, as: caller, idempotency: record, logger: logger)
                }
                return .stream(source: running.log, turnID: running.id, turn: running, replayed: false)
            }
            let (answer, turnID) = try await chats.send(
                turn.message, conversationID: turn.conversationID, inputs: turn.inputs, extra: turn.extra,
                options: turn.options, as: caller, idempotency: record, logger: logger)
            return .answer(answer, turnID: turnID, replayed: false)
        } catch let error as LimitError {
            // A request with the same key running at once (here, or on another replica) may hold the slot or the
            // budget this one was refused.
            if let record {
                if !claiming { await claims.wait(for: record.keyHash) }
                if let first = try await firstTurn(holding: record, waitingUpTo: .milliseconds(500)) {
                    return try await repeated(first, record: record, streaming: streaming)
                }
            }
            // Limits, budgets and shutdown: refused before Dify was asked.
            metrics.chat(system: caller.systemID, mode: streaming ? .stream : .blocking, outcome: .refused)
            throw error
        } catch let claimed as IdempotencyRecord.Claimed {
            // A request with the same key got there first, between the look-up and the claim.
            guard let first = try await readers.store.turn(claimed.turnID), let record else { throw claimed }
            return try await repeated(first, record: record, streaming: streaming)
        }
    }

    /// The turn that holds the key, unless the key expired (then it is freed for this request); looked for again
    /// for up to `patience` while another request may be about to claim it.
    private func firstTurn(
        holding record: IdempotencyRecord, waitingUpTo patience: Duration = .zero
    ) async throws -> StoredTurn? {
        let deadline = ContinuousClock.now + patience
        var found = try await readers.store.turn(idempotencyKey: record.keyHash)
        while found == nil, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            found = try await readers.store.turn(idempotencyKey: record.keyHash)
        }
        guard let first = found else { return nil }
        guard now().timeIntervalSince(first.createdAt) < Double(idempotencyTTL.components.seconds) else {
            try await chats.store.releaseIdempotencyKey(of: first.rowID)
            return nil
        }
        return first
    }

    /// A request repeating `first`: the same stream or answer, without asking Dify again.
    private func repeated(_ first: StoredTurn, record: IdempotencyRecord, streaming: Bool) async throws -> Outcome {
        guard first.requestHash == record.requestHash else { throw IdempotencyError.differentRequest }
        // A stream Dify refused before it began was an HTTP error, and is that error again.
        if streaming, case .failed(let error, nil)? = first.ending {
            return .failure(error, turnID: first.id)
        }
        if streaming {
            return .stream(
                source: readers.source(for: first.rowID), turnID: first.id, turn: nil, replayed: first.status.isFinal)
        }
        guard let done = try await readers.waitForEnd(of: first.rowID, upTo: idempotencyWait),
            let ending = done.ending
        else {
            throw IdempotencyError.stillRunning(retryAfter: 5)
        }
        switch ending {
        case .completed(let ids, let answer, let metadata, _):
            let reply = DifyChatAnswer(
                messageID: ids.messageID, conversationID: ids.conversationID, answer: answer, metadata: metadata,
                createdAt: done.result?.createdAt, taskID: done.result?.taskID, mode: done.result?.mode)
            return .answer(reply, turnID: done.id, replayed: true)
        case .failed(let error, _):
            return .failure(error, turnID: done.id)
        case .interrupted(_, let reason):
            return .failure(.unreachable(reason), turnID: done.id)
        }
    }
}
