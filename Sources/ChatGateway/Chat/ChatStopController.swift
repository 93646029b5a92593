import Foundation
import SQLKit
import Vapor

/// `POST /v1/chat/{task_id}/stop`: stops a streaming answer; what arrived is stored, marked stopped.
struct ChatStopController: RouteCollection {
    let stopper: ChatStopper

    struct Result: Content { var result: String }

    func boot(routes: any RoutesBuilder) throws {
        routes.post("chat", ":task_id", "stop", use: stop)
    }

    @Sendable
    func stop(_ req: Request) async throws -> Result {
        let caller = try await stopper.access.auth.identityFromQueryOrBody(req)
        try await stopper.stop(taskID: try req.parameters.require("task_id"), as: caller)
        return Result(result: "success")
    }
}

/// Stops a streaming answer for `/v1` and `/dify/v1` alike.
struct ChatStopper: Sendable {
    let access: DifyAccess
    let streams: ChatStreamRegistry

    /// Dify would silently accept any task id; the gateway only stops tasks it knows to be the caller's, and
    /// throws `ChatError.taskNotFound`, without asking Dify, for any other.
    func stop(taskID rawTaskID: String, as caller: CallerIdentity) async throws {
        // Dify's task ids are UUIDs too; one the gateway never saw is not the caller's to stop.
        guard let taskID = CanonicalID.uuid(rawTaskID) else { throw ChatError.taskNotFound }
        let turn = streams.turn(forTask: taskID)
        let owner: (systemID: String, userID: String)?
        if let turn {
            owner = (turn.caller.systemID, turn.caller.userID)
        } else {
            owner = try await access.store.owner(ofTask: taskID)
        }
        guard let owner, caller.owns(owner) else { throw ChatError.taskNotFound }
        let target = try access.target(for: caller)
        let stopDify = { try await access.dify.stopMessage(taskID: taskID, user: caller.difyUser, at: target) }
        guard let turn else {
            // Another replica runs the turn: it learns of the stop from the database when Dify ends the stream.
            return try await access.store.requestStop(ofTask: taskID, stopDify)
        }
        turn.requestStop()
        try await stopDify()
    }

    /// Stops every answer of the user, in this process and (through the database) in others: their data is being
    /// erased. A stop that fails (the answer ended meanwhile) is not an error.
    func stopAll(of caller: CallerIdentity) async {
        for turn in streams.turns(of: caller) { turn.requestStop() }
        let rows =
            (try? await (access.store.database as! any SQLDatabase).select().column("task_id")
                .from(StoredMessage.schema).owned(bySystem: caller.systemID, user: caller.userID)
                .where("status", .equal, SQLBind(StoredMessage.Status.streaming.rawValue))
                .where("task_id", .isNot, SQLLiteral.null).all()) ?? []
        for row in rows {
            guard let taskID = try? row.decode(column: "task_id", as: String.self) else { continue }
            try? await stop(taskID: taskID, as: caller)
        }
    }
}
