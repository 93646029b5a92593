import NIOConcurrencyHelpers
import Vapor

/// `chat-gateway purge`: one run of the retention job, for cron and tests; `--dry-run` counts without deleting.
struct PurgeCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Flag(name: "dry-run", help: "Count what would be deleted, deleting nothing.")
        var dryRun: Bool
    }

    var help: String {
        "Deletes the conversations and messages past each system's retention (RETENTION_DAYS or its retention_days), once."
    }

    let makeRetention: @Sendable (Application) -> Retention
    let migrations: MigrationRunner
    /// Reads the admin API's systems, for their own `retention_days`.
    let loadSystems: @Sendable () async throws -> Void

    func run(using context: CommandContext, signature: Signature) async throws {
        try await migrations.run(on: context.application)
        try await loadSystems()
        let results = try await makeRetention(context.application).run(dryRun: signature.dryRun)
        let verb = signature.dryRun ? "would be deleted" : "deleted"
        for result in results {
            var line =
                "system \(result.systemID): \(result.conversations) conversations, \(result.messages) messages \(verb) (retention \(result.days) days)"
            if result.difyDeleted + result.difyFailed > 0 {
                line += "; in Dify \(result.difyDeleted) deleted, \(result.difyFailed) failed"
            }
            context.console.print(line)
        }
        let conversations = results.map(\.conversations).reduce(0, +)
        let messages = results.map(\.messages).reduce(0, +)
        context.console.print("total: \(conversations) conversations, \(messages) messages \(verb)")
    }
}

/// Runs the retention job every `interval`, on one replica at a time (the `retention` lease).
struct RetentionSchedule: LifecycleHandler {
    let retention: Retention
    let lease: Lease
    let interval: Duration
    private let loop = BackgroundLoop()

    init(retention: Retention, lease: Lease, interval: Duration) {
        self.retention = retention
        self.lease = lease
        self.interval = interval
    }

    func didBootAsync(_ application: Application) async throws {
        guard ChatGatewayEntrypoint.isServing(application.environment) else { return }
        let logger = application.logger
        loop.start(every: interval) { [retention, lease] in
            do {
                let results = try await lease.whileHeld { () -> [Retention.SystemResult]? in
                    do {
                        return try await retention.run()
                    } catch {
                        logger.error("retention stopped", metadata: ["error": .string(String(describing: error))])
                        return nil
                    }
                }
                guard let results = results ?? nil else { return }
                let deleted = results.map(\.messages).reduce(0, +)
                if deleted > 0 {
                    logger.info(
                        "retention deleted expired messages",
                        metadata: [
                            "conversations": .stringConvertible(results.map(\.conversations).reduce(0, +)),
                            "messages": .stringConvertible(deleted),
                        ])
                }
            } catch {
                logger.error("retention could not run", metadata: ["error": .string(String(describing: error))])
            }
        }
    }

    func shutdownAsync(_ application: Application) async {
        await loop.stop()
    }
}
