import Fluent
import SQLKit
import Vapor

/// `GET /health` (liveness) and `GET /health/ready` (the database answers a query).
struct HealthController: RouteCollection {
    struct Status: Content { var status: String; var database: String? }

    func boot(routes: any RoutesBuilder) throws {
        routes.get("health") { _ in Status(status: "ok", database: nil) }
        routes.get("health", "ready", use: ready)
    }

    @Sendable
    func ready(_ req: Request) async throws -> Response {
        do {
            try await (req.db as! any SQLDatabase).raw("SELECT 1").run()
            return try await Status(status: "ok", database: "ok").encodeResponse(for: req)
        } catch {
            let response = try await Status(status: "unavailable", database: "unreachable").encodeResponse(for: req)
            response.status = .serviceUnavailable
            return response
        }
    }
}
