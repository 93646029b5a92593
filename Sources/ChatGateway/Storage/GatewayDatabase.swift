import Fluent
import Vapor

extension Application {
    /// The gateway's database on any event loop, logging through a logger kept at info unless `LOG_SQL=true`:
    /// Fluent's debug lines carry every bound value (message texts, visitor ids, which are credentials).
    func gatewayDatabase(logSQL: Bool, id: DatabaseID? = nil) -> any Database {
        var logger = self.logger
        if !logSQL, logger.logLevel < .info { logger.logLevel = .info }
        return databases.database(id, logger: logger, on: eventLoopGroup.any())!
    }
}
