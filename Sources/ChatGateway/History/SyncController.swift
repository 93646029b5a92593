import Vapor

/// `POST /v1/sync` (an all-systems X-API-Key): one sync run now, or the report of the run already in progress.
struct SyncController: RouteCollection {
    let access: OperatorAccess
    let coordinator: SyncCoordinator

    func boot(routes: any RoutesBuilder) throws {
        routes.post("sync", use: sync)
    }

    @Sendable
    func sync(_ req: Request) async throws -> SyncReport {
        // A sync reads every system's users from Dify: a key limited to some systems may not start one.
        try await access.requireAllSystems(req)
        switch try await coordinator.run() {
        case .ran(let report), .joined(let report): return report
        case .runningElsewhere:
            throw Abort(
                .conflict,
                reason: "A history sync is already running on another replica. Try again when it has finished.")
        }
    }
}
