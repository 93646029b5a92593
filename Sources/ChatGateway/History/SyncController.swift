import Vapor

/// `POST /v1/sync` (X-API-Key): one sync run now, or the report of the run already in progress.
struct SyncController: RouteCollection {
    let access: OperatorAccess
    let coordinator: SyncCoordinator

    func boot(routes: any RoutesBuilder) throws {
        routes.post("sync", use: sync)
    }

    @Sendable
    func sync(_ req: Request) async throws -> SyncReport {
        try await access.require(req)
        return await coordinator.run().report
    }
}
