import Foundation
import Vapor

/// `GET /v1/turns/{turn_id}` and `GET /v1/turns/{turn_id}/events`: a turn's state, and its events from where a
/// client left off, for the turn's owner only.
struct TurnsController: RouteCollection {
    let auth: GatewayAuthenticator
    let readers: TurnReaders
    let keepAlive: Duration
    let pages: PageSettings

    func boot(routes: any RoutesBuilder) throws {
        let turns = routes.grouped("turns", ":turn_id")
        turns.get(use: show)
        turns.get("events", use: events)
    }

    @Sendable
    func show(_ req: Request) async throws -> Response {
        let turn = try await ownedTurn(req)
        var text = turn.answer
        var lastEventID = turn.lastEventID ?? 0
        if !turn.status.isFinal { (text, lastEventID) = try await readers.textSoFar(of: turn.id) }
        var body: [String: JSONValue] = [
            "turn_id": .string(turn.id), "status": .string(turn.status.rawValue), "text": .string(text),
            "conversation_id": (turn.ids?.conversationID ?? turn.conversationID).map(JSONValue.string) ?? .null,
            "message_id": turn.ids.map { .string($0.messageID) } ?? .null,
            "task_id": turn.ids?.taskID.map(JSONValue.string) ?? .null,
            "last_event_id": .number(Double(lastEventID)),
            "created_at": .number(Double(Int(turn.createdAt.timeIntervalSince1970))),
            "usage": .null, "error": .null,
        ]
        if case .object(let metadata)? = turn.result?.metadata, let usage = metadata["usage"] { body["usage"] = usage }
        if let ending = turn.ending {
            switch ending {
            case .failed(let error, _): body["error"] = .string(APIErrorMiddleware.describe(error).1)
            case .interrupted(_, let reason): body["error"] = .string(reason)
            case .completed: break
            }
        }
        return Response(
            status: .ok, headers: ["Content-Type": "application/json; charset=utf-8"],
            body: .init(buffer: JSONValue.object(body).jsonBuffer(sortedKeys: true, allocator: req.byteBufferAllocator))
        )
    }

    @Sendable
    func events(_ req: Request) async throws -> Response {
        let turn = try await ownedTurn(req)
        let after = try Self.resumePoint(req)
        if turn.status.isFinal, turn.lastEventID == after { return Response(status: .noContent) }
        return TurnStream(
            source: readers.source(for: turn.rowID),
            encoder: GatewayEventEncoder(turnID: turn.id, links: pages.sourceLinks(of: turn.systemID)), after: after,
            keepAlive: keepAlive
        ).response(headers: ["X-Turn-Id": turn.id])
    }

    /// `Last-Event-ID`, else `?after=N`, else 0 (from the beginning).
    static func resumePoint(_ req: Request) throws -> Int {
        let raw = req.headers.first(name: "Last-Event-ID") ?? req.query[String.self, at: "after"]
        guard let raw, !raw.isEmpty else { return 0 }
        guard let id = Int(raw.trimmingCharacters(in: .whitespaces)), id >= 0 else {
            throw Abort(.badRequest, reason: "Last-Event-ID and after must be a non-negative event id")
        }
        return id
    }

    private func ownedTurn(_ req: Request) async throws -> StoredTurn {
        let caller = try await auth.identityFromQueryOrBody(req)
        guard let rowID = UUID(uuidString: try req.parameters.require("turn_id")),
            let turn = try await readers.store.turn(rowID), caller.owns((turn.systemID, turn.userID))
        else { throw ChatError.turnNotFound }
        return turn
    }
}
