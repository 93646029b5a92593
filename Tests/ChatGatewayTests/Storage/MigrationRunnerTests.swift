import Fluent
import SQLKit
import Testing
import Vapor

@testable import ChatGateway

@Suite("Migrations", .hangLimit)
struct MigrationRunnerTests {
    /// Replicas starting at the same moment on one PostgreSQL database: without the advisory lock both would
    /// try to create the same tables and one would fail.
    @Test(
        .enabled(if: TestDatabase.postgresURL != nil, "needs a PostgreSQL server: set TEST_DATABASE_URL (.ci/run does)")
    )
    func replicasStartingTogetherMigrateOnce() async throws {
        let database = try await TestDatabase.make()
        let settings = try GatewayHarness.settings(fakeURL: "http://127.0.0.1:9", database: database.settings)
        var apps: [Application] = []
        for _ in 0..<3 {
            let app = try await Application.make(.testing)
            app.logger.logLevel = .warning
            try await configure(app, settings: settings)
            apps.append(app)
        }
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for app in apps {
                    group.addTask { try await MigrationRunner(database: settings.database).run(on: app) }
                }
                try await group.waitForAll()
            }
            let rows = try await (apps[0].db as! any SQLDatabase).raw("SELECT name FROM _fluent_migrations").all()
            let names = try rows.map { try $0.decode(column: "name", as: String.self) }
            #expect(names.count == Set(names).count)
            #expect(Set(names).count == GatewayMigrationsCount.expected)
        } catch {
            Issue.record(error)
        }
        for app in apps { try? await app.asyncShutdown() }
        await database.remove()
    }

    @Test func migratingTwiceChangesNothing() async throws {
        try await GatewayHarness.with { gateway in
            try await MigrationRunner(database: gateway.settings.database).run(on: gateway.app)
            let rows = try await (gateway.app.db as! any SQLDatabase).raw(
                "SELECT count(*) AS n FROM _fluent_migrations"
            ).first()
            #expect(try rows?.decode(column: "n", as: Int.self) == GatewayMigrationsCount.expected)
        }
    }
}

/// How many migrations this version ships (update with Storage/Migrations/Migrations.swift).
enum GatewayMigrationsCount {
    static let expected = 16
}
