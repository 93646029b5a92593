import Fluent
import FluentSQLiteDriver
import SQLKit
import Testing
import Vapor

@testable import ChatGateway

@Suite("The gateway's database source", .hangLimit)
struct GatewayDatabaseSourceTests {
    /// A task that ends after shutdown (a budget hold's release, say) gets an error, and the process goes on.
    @Test func aQueryAfterShutdownFailsInsteadOfStoppingTheProcess() async throws {
        let app = try await Application.make(.testing)
        app.databases.use(.sqlite(.memory), as: .sqlite)
        let source = GatewayDatabaseSource(app, logSQL: false)
        try await (source() as! any SQLDatabase).raw("SELECT 1").run()

        await app.databases.shutdownAsync()
        await #expect(throws: (any Error).self) {
            try await (source() as! any SQLDatabase).raw("SELECT 1").run()
        }
        try await app.asyncShutdown()
    }
}
