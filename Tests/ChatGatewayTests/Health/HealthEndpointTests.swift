import SQLKit
import Testing

@testable import ChatGateway

@Suite("Health", .hangLimit)
struct HealthEndpointTests {
    @Test func liveAndReady() async throws {
        try await GatewayHarness.with { gateway in
            let live = try await gateway.call(.GET, "/health")
            #expect(live.status == 200)
            #expect(live.object["status"] as? String == "ok")
            let ready = try await gateway.call(.GET, "/health/ready")
            #expect(ready.status == 200)
            #expect(ready.object["database"] as? String == "ok")
        }
    }

    @Test func kubernetesProbes() async throws {
        try await GatewayHarness.with { gateway in
            let live = try await gateway.call(.GET, "/healthz")
            #expect(live.status == 200)
            #expect(live.object["status"] as? String == "ok")
            let ready = try await gateway.call(.GET, "/readyz")
            #expect(ready.status == 200)
            #expect(ready.object["database"] as? String == "ok")
            #expect(ready.object["migrations"] as? String == "ok")
        }
    }

    /// A replica of a newer build started against a schema not yet migrated must not be sent traffic.
    @Test func readyzIs503WhileAMigrationIsPending() async throws {
        try await GatewayHarness.with { gateway in
            let newest = try #require(GatewayMigrations.all.last?.name)
            try await (gateway.app.db as! any SQLDatabase).delete(from: "_fluent_migrations")
                .where("name", .equal, SQLBind(newest)).run()
            let ready = try await gateway.call(.GET, "/readyz")
            #expect(ready.status == 503)
            #expect(ready.object["migrations"] as? String == "pending")
            #expect(ready.detail == "1 migration(s) not applied yet: run chat-gateway migrate")
            #expect(try await gateway.call(.GET, "/healthz").status == 200)
            #expect(try await gateway.call(.GET, "/health/ready").status == 200)
        }
    }

    @Test func unknownPathsAreJSON404s() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(.GET, "/v1/nope")
            #expect(reply.status == 404)
            #expect(reply.detail != nil)
        }
    }
}
