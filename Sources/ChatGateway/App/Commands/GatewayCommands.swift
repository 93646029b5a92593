import Foundation
import SQLKit
import Vapor

/// The gateway's commands besides Vapor's `serve` and `routes`, registered in one place for the running gateway
/// and for answering `--help`.
enum GatewayCommands {
    static let names: Set<String> = [
        "serve", "routes", "migrate", "gen-jwt", "gen-env", "import-legacy", "sync", "recount-usage", "purge",
    ]

    static func register(
        on app: Application, settings: Settings, now: @escaping @Sendable () -> Date,
        makeSync: @escaping @Sendable (Application) -> HistorySync,
        makeRetention: @escaping @Sendable (Application) -> Retention,
        registry: GatewayRegistry
    ) {
        let migrations = MigrationRunner(database: settings.database)
        app.asyncCommands.use(MigrateCommand(migrations: migrations), as: "migrate")
        app.asyncCommands.use(GenJWTCommand(settings: settings), as: "gen-jwt")
        app.asyncCommands.use(GenEnvCommand(), as: "gen-env")
        app.asyncCommands.use(
            ImportLegacyCommand(
                now: now, migrations: migrations, sealer: settings.encryptionKey.map { SecretSealer(encryptionKey: $0) }
            ),
            as: "import-legacy")
        app.asyncCommands.use(RecountUsageCommand(migrations: migrations), as: "recount-usage")
        app.asyncCommands.use(
            SyncCommand(makeSync: makeSync, migrations: migrations, loadSystems: registry.refresh), as: "sync")
        app.asyncCommands.use(
            PurgeCommand(makeRetention: makeRetention, migrations: migrations, loadSystems: registry.refresh),
            as: "purge")
    }

    /// `--help` or `-h` anywhere, or a first argument that names no command: Vapor's help or usage error, printed
    /// before configuration is read and before any database, network or file is touched.
    static func isHelpOrUsage(_ arguments: [String]) -> Bool {
        let given = arguments.dropFirst()
        if given.contains("--help") || given.contains("-h") { return true }
        guard let command = given.first, !command.hasPrefix("-") else { return false }
        return !names.contains(command)
    }

    /// The same commands on an application that has nothing else: no database, no Dify, no lifecycle handlers.
    /// Their parts are built from the defaults and never run; only their signatures and help are read.
    static func registerForHelp(on app: Application) throws {
        let settings = try Settings.parse(environment: [:], isProduction: false)
        let dify = HTTPDifyClient(
            http: app.http.client.shared, streamingHTTP: app.http.client.shared, timeout: settings.difyTimeout)
        let targets = DifyTargetResolver(sharedBaseURL: nil, sharedAPIKey: nil)
        let registry = GatewayRegistry(
            store: AdminStore(database: { [unowned app] in app.db }), sealer: nil, environmentSystemIDs: [],
            now: Date.init, logger: app.logger)
        register(
            on: app, settings: settings, now: Date.init,
            makeSync: { app in
                HistorySync(
                    dify: dify, targets: targets, database: app.db, now: Date.init,
                    concurrency: settings.syncConcurrency, logger: app.logger)
            },
            makeRetention: { app in
                Retention(
                    store: ConversationStore(database: app.db, now: Date.init),
                    database: { app.db as! any SQLDatabase },
                    policy: RetentionPolicy(systemPolicy: registry.systemInForce, defaultDays: settings.retentionDays),
                    dify: dify, targets: targets, now: Date.init,
                    logger: app.logger)
            }, registry: registry)
    }
}
