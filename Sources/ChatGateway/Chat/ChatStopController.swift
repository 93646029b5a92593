import Foundation
import Vapor

/// `POST /v1/chat/{task_id}/stop`: stops a streaming answer; what arrived is stored, marked stopped.
struct ChatStopController: RouteCollection {
    let auth: GatewayAuthenticator
    let dify: any DifyClient
    let targets: DifyTargetResolver
    let streams: ChatStreamRegistry
    let now: @Sendable () -> Date

    struct Result: Content { var result: String }

    func boot(routes: any RoutesBuilder) throws {
        routes.post("chat", ":task_id", "stop", use: stop)
    }

    @Sendable
    func stop(_ req: Request) async throws -> Result {
        let caller = try await auth.identityFromQueryOrBody(req)
        let taskID = try req.parameters.require("task_id")
        let session = await streams.session(forTask: taskID)
        let owner: (systemID: String, userID: String)?
        if let session { owner = (session.caller.systemID, session.caller.userID) }
        else { owner = try await ConversationStore(database: req.db, now: now).owner(ofTask: taskID) }
        // Dify would silently accept any task id; the gateway only stops tasks it knows to be the caller's.
        guard let owner else { throw ChatError.taskNotFound }
        guard owner == (caller.systemID, caller.userID) else { throw ChatError.taskNotFound }
        await session?.requestStop()
        try await dify.stopMessage(taskID: taskID, user: caller.difyUser, at: try targets.target(forSystem: caller.systemID))
        return Result(result: "success")
    }
}
