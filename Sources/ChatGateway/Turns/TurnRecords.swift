import Foundation
import NIOCore
import SQLKit

/// What is kept of how a turn ended, on the user's message (`turn_result`): enough to tell a reader how it ended
/// and to answer a retried request again.
struct TurnResult: Codable, Sendable, Equatable {
    /// Dify's metadata of a completed answer (usage, retriever_resources).
    var metadata: JSONValue?
    var error: DifyError?
    /// Why it was interrupted.
    var reason: String?
    /// A blocking answer's other fields, for `/dify/v1`.
    var taskID: String?
    var createdAt: Int?
    var mode: String?

    init(answer: DifyChatAnswer) {
        metadata = answer.metadata
        taskID = answer.taskID
        createdAt = answer.createdAt
        mode = answer.mode
    }

    init(_ ending: TurnEnding) {
        switch ending {
        case .completed(let ids, _, let metadata, _):
            self.metadata = metadata
            taskID = ids.taskID
        case .failed(let error, let ids):
            self.error = error
            taskID = ids?.taskID
        case .interrupted(let ids, let reason):
            self.reason = reason
            taskID = ids?.taskID
        }
    }

    /// Written with the gateway's own JSON writer: every chat writes one, and Foundation's encoder costs more.
    var json: String {
        var object: [String: JSONValue] = [:]
        if let metadata { object["metadata"] = metadata }
        if let error, let data = try? JSONEncoder().encode(error),
            let value = try? JSONDecoder().decode(JSONValue.self, from: data)
        {
            object["error"] = value
        }
        if let reason { object["reason"] = .string(reason) }
        if let taskID { object["taskID"] = .string(taskID) }
        if let createdAt { object["createdAt"] = .number(Double(createdAt)) }
        if let mode { object["mode"] = .string(mode) }
        return String(buffer: JSONValue.object(object).jsonBuffer())
    }

    init?(json: String?) {
        guard let json, let value = try? JSONDecoder().decode(Self.self, from: Data(json.utf8)) else { return nil }
        self = value
    }
}

/// The columns a turn's last write sets on the user's message.
struct TurnFinal: Sendable {
    var status: TurnStatus
    var result: TurnResult
    /// The id of the turn's ending in its log.
    var lastEventID: Int
    /// Frees the turn's `Idempotency-Key`: the request never reached Dify and may be sent again.
    var releasesKey = false
    /// Recovery's write: only if this (gone) process still holds the turn, so two replicas never both record it.
    var expectedHolder: String?

    /// Another process recorded the turn first.
    struct NotHeld: Error {}

    /// Runs `update` (the user message's other columns) on the turn's row with these columns set.
    func run(_ update: SQLUpdateBuilder, row: UUID) async throws {
        var update =
            update
            .set("turn_status", to: SQLBind(status.rawValue))
            .set("turn_holder", to: SQLLiteral.null)
            .set("turn_result", to: SQLBind(result.json))
            .set("last_event_id", to: SQLBind(lastEventID))
            .where("id", .equal, SQLBind(row))
        if releasesKey { update = update.set("idempotency_key", to: SQLLiteral.null) }
        guard let expectedHolder else { return try await update.run() }
        let updated = try await update.where("turn_holder", .equal, SQLBind(expectedHolder)).returning("id").all()
        if updated.isEmpty { throw NotHeld() }
    }
}
