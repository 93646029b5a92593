import Fluent
import SQLKit
import Vapor

/// The probes. `GET /health` and `GET /healthz` (liveness: the process answers, nothing else is checked);
/// `GET /health/ready` (the database answers a query) and `GET /readyz` (the database answers and every migration
/// of this build is applied, so a replica started against an older schema is not sent traffic; 503 once shutting
/// down).
struct HealthController: RouteCollection {
    struct Status: Content {
        var status: String
        var database: String?
        var migrations: String?
        var detail: String?
    }

    /// The names of this build's migrations, in order.
    let migrationNames: [String]
    /// After SIGTERM `/readyz` is 503 at once, so the load balancer stops sending before chats are refused.
    let shutdown: ShutdownState

    func boot(routes: any RoutesBuilder) throws {
        routes.get("health") { _ in Status(status: "ok") }
        routes.get("healthz") { _ in Status(status: "ok") }
        routes.get("health", "ready", use: ready)
        routes.get("readyz", use: readyz)
    }

    @Sendable
    func ready(_ req: Request) async throws -> Response {
        do {
            try await (req.db as! any SQLDatabase).raw("SELECT 1").run()
            return try await Status(status: "ok", database: "ok").encodeResponse(for: req)
        } catch {
            return try await Self.unavailable(
                Status(status: "unavailable", database: "unreachable"), for: req)
        }
    }

    @Sendable
    func readyz(_ req: Request) async throws -> Response {
        guard shutdown.phase == .serving else {
            return try await Self.unavailable(
                Status(status: "unavailable", detail: "Shutting down: running streams are finishing"), for: req)
        }
        let applied: Set<String>
        do {
            let rows = try await (req.db as! any SQLDatabase).select().column("name").from("_fluent_migrations").all()
            applied = Set(try rows.map { try $0.decode(column: "name", as: String.self) })
        } catch {
            return try await Self.unavailable(
                Status(
                    status: "unavailable", database: "unreachable",
                    detail: "The database does not answer, or its migrations table cannot be read"), for: req)
        }
        let missing = migrationNames.filter { !applied.contains($0) }
        guard missing.isEmpty else {
            return try await Self.unavailable(
                Status(
                    status: "unavailable", database: "ok", migrations: "pending",
                    detail: "\(missing.count) migration(s) not applied yet: run chat-gateway migrate"), for: req)
        }
        return try await Status(status: "ok", database: "ok", migrations: "ok").encodeResponse(for: req)
    }

    private static func unavailable(_ status: Status, for req: Request) async throws -> Response {
        let response = try await status.encodeResponse(for: req)
        response.status = .serviceUnavailable
        return response
    }
}
