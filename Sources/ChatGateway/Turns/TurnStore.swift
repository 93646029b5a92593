import Fluent
import Foundation
import SQLKit

/// A turn as the database has it: the user's message row and its answer.
struct StoredTurn: Sendable {
    let rowID: UUID
    let systemID: String
    let userID: String
    let status: TurnStatus
    let ids: TurnIDs?
    /// The answer when the turn is over; empty while it runs (its events hold the text).
    let answer: String
    let result: TurnResult?
    let lastEventID: Int?
    let holder: String?
    let requestHash: String?
    let conversationID: String?
    let content: String
    let createdAt: Date
    let answerError: String?
    /// The wire its question came through.
    var channel: String? = nil

    var id: String { rowID.uuidString.lowercased() }

    /// How it ended, as a reader's last event tells it; nil while it runs.
    var ending: TurnEnding? {
        switch status {
        case .accepted, .streaming: return nil
        case .completed, .stopped:
            guard let ids else { return .failed(.malformedResponse("the turn has no ids"), ids: nil) }
            return .completed(
                ids, answer: answer, metadata: result?.metadata ?? .object([:]), stopped: status == .stopped)
        case .failed:
            return .failed(result?.error ?? .unreachable(answerError ?? "the answer failed"), ids: ids)
        case .interrupted:
            return .interrupted(ids: ids, reason: result?.reason ?? answerError ?? ShutdownState.interruptedDetail)
        }
    }
}

/// Reads turns, and keeps running turns' events, in `gateway_messages` and `gateway_turn_events`.
struct TurnEventStore: Sendable {
    static let schema = "gateway_turn_events"
    let database: @Sendable () -> any Database

    private var sql: any SQLDatabase { database() as! any SQLDatabase }

    /// Deletes the events of turns that ended, in `sql` (the write they belong to).
    static func drop(eventsOf turnIDs: [String], in sql: any SQLDatabase) async throws {
        try await sql.delete(from: schema).where("turn_id", .in, SQLBind.group(turnIDs)).run()
    }

    /// The turn whose user message has this row id, with its answer.
    func turn(_ rowID: UUID) async throws -> StoredTurn? {
        guard let user = try await StoredMessage.find(rowID, on: database()), user.role == "user" else { return nil }
        return try await turn(from: user)
    }

    /// The turn holding an `Idempotency-Key`.
    func turn(idempotencyKey keyHash: String) async throws -> StoredTurn? {
        guard
            let user = try await StoredMessage.query(on: database()).filter(\.$idempotencyKey == keyHash).first()
        else { return nil }
        return try await turn(from: user)
    }

    private func turn(from user: StoredMessage) async throws -> StoredTurn? {
        guard let rowID = user.id else { return nil }
        let difyID = user.turnMessageID
        let answer: StoredMessage? =
            if let difyID {
                try await StoredMessage.query(on: database()).filter(\.$messageID == "\(difyID)_assistant").first()
            } else { nil }
        let status = user.turnStatus.flatMap(TurnStatus.init(rawValue:)) ?? Self.status(user: user, answer: answer)
        let result = TurnResult(json: user.turnResult)
        let ids = difyID.flatMap { id in
            user.conversationID.map {
                TurnIDs(conversationID: $0, messageID: id, taskID: answer?.taskID ?? result?.taskID)
            }
        }
        return StoredTurn(
            rowID: rowID, systemID: user.systemID, userID: user.userID, status: status, ids: ids,
            answer: answer?.content ?? "", result: result, lastEventID: user.lastEventID, holder: user.turnHolder,
            requestHash: user.requestHash, conversationID: user.conversationID, content: user.content,
            createdAt: user.createdAt, answerError: answer?.error ?? user.error, channel: user.channel)
    }

    /// A message stored before turns were recorded (synced, imported): its state from the rows.
    private static func status(user: StoredMessage, answer: StoredMessage?) -> TurnStatus {
        switch (user.status, answer?.status) {
        case (.pending, _): .accepted
        case (_, .streaming?): .streaming
        case (_, .stopped?): .stopped
        case (_, .interrupted?): .interrupted
        case (.failed, _), (.refused, _), (_, .failed?): .failed
        default: .completed
        }
    }

    /// The stored events of a running turn after `id`.
    func events(of turnID: String, after id: Int) async throws -> [TurnLog.Entry] {
        var rows = try await sql.select().columns("seq", "events").from(Self.schema)
            .where("turn_id", .equal, SQLBind(turnID)).where("seq", .greaterThan, SQLBind(id))
            .orderBy("seq").all().map { try $0.decode(column: "events", as: String.self) }
        guard !rows.isEmpty else { return [] }
        // Deltas take their ids from the turn's `started` entry, in its first row.
        if id > 0,
            let first = try await sql.select().column("events").from(Self.schema)
                .where("turn_id", .equal, SQLBind(turnID)).orderBy("seq").limit(1).first()
        {
            rows.insert(try first.decode(column: "events", as: String.self), at: 0)
        }
        var ids: TurnIDs?
        var entries: [TurnLog.Entry] = []
        for row in rows {
            guard case .array(let pairs)? = try? JSONDecoder().decode(JSONValue.self, from: Data(row.utf8)) else {
                continue
            }
            for pair in pairs {
                guard case .array(let fields) = pair, fields.count == 2, case .number(let number) = fields[0],
                    let event = TurnEvent(stored: fields[1], ids: ids)
                else { continue }
                if case .started(let started) = event { ids = started }
                if Int(number) > id { entries.append(TurnLog.Entry(id: Int(number), event: event)) }
            }
        }
        return entries
    }

    /// The answer so far of a turn running elsewhere, from its stored events.
    func textSoFar(of turnID: String) async throws -> (text: String, lastEventID: Int) {
        let entries = try await events(of: turnID, after: 0)
        var text = ""
        for entry in entries { entry.event.fold(into: &text) }
        return (text, entries.last?.id ?? 0)
    }

    /// The user messages of a user's turns that some process is still answering.
    func inProgress(systemID: String, userID: String) async throws -> [StoredMessage] {
        try await StoredMessage.query(on: database())
            .filter(\.$systemID == systemID).filter(\.$userID == userID).filter(\.$role == "user")
            .filter(\.$turnHolder != nil).all()
    }
}
