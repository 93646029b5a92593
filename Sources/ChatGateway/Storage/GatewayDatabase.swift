import Fluent
import Vapor

/// The gateway's database on any event loop, logging through a logger kept at info unless `LOG_SQL=true`:
/// Fluent's debug lines carry every bound value (message texts, visitor ids, which are credentials).
struct GatewayDatabaseSource: Sendable {
    private let databases: Databases
    private let id: DatabaseID?
    private let eventLoopGroup: any EventLoopGroup
    private let logger: Logger
    /// Made at start-up. Fluent has no database to give once it shut down; a task that ends late (a budget hold's
    /// release, say) gets this one, whose closed pool fails its queries, instead of stopping the process.
    private let afterShutdown: any Database

    init(_ app: Application, id: DatabaseID? = nil, logSQL: Bool) {
        var logger = app.logger
        if !logSQL, logger.logLevel < .info { logger.logLevel = .info }
        (databases, self.id, eventLoopGroup, self.logger) = (app.databases, id, app.eventLoopGroup, logger)
        afterShutdown = app.databases.database(id, logger: logger, on: app.eventLoopGroup.any())!
    }

    func callAsFunction() -> any Database {
        databases.database(id, logger: logger, on: eventLoopGroup.any()) ?? afterShutdown
    }
}
