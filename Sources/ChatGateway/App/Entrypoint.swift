import Foundation
import Logging
import OTel
import Vapor

/// What `chat-gateway` runs: read the environment (and `.env`), configure, execute the command.
public enum ChatGatewayEntrypoint {
    public static func run() async {
        do {
            FileDescriptorLimit.raiseToHardLimit()
            var environment = try Environment.detect()
            // `.env` first, so LOG_LEVEL, LOG_FORMAT and OTEL_* may come from it too (Vapor loads it again, later).
            await DotEnvFile.load(
                for: environment, fileio: NonBlockingFileIO(threadPool: .singleton),
                logger: Logger(label: "dotenv") { _ in SwiftLogNoOpLogHandler() })
            let level = try Logger.Level.detect(from: &environment)
            let format = try LogFormat.parse(ProcessInfo.processInfo.environment)
            // Logs go to stderr so commands like gen-jwt and gen-env print only their result on stdout.
            LoggingSystem.bootstrap(
                { label, provider in
                    format.handler(
                        label: label, level: level, metadataProvider: provider, output: StandardErrorOutput())
                }, metadataProvider: OTel.makeLoggingMetadataProvider())
            let traces =
                isServing(environment)
                ? try TraceExport.bootstrap(environment: ProcessInfo.processInfo.environment) : nil
            let app = try await Application.make(environment)
            do {
                if GatewayCommands.isHelpOrUsage(environment.arguments) {
                    try GatewayCommands.registerForHelp(on: app)
                    try await app.execute()
                    try await app.asyncShutdown()
                    return
                }
                let settings = try Settings.parse(
                    environment: ProcessInfo.processInfo.environment, isProduction: environment == .production)
                try await configure(app, settings: settings)
                if isServing(environment) {
                    try await MigrationRunner(database: settings.database).run(on: app)
                }
                let exporting = traces.map { group in Task { try await group.run() } }
                try await app.execute()
                // A signal stopped the server's command; the listener is still open until `asyncShutdown`.
                if isServing(environment) {
                    await app.gracefulShutdown?.run(logger: app.logger)
                    try await closeConnections(of: app, within: .seconds(15))
                } else {
                    try await app.asyncShutdown()
                }
                await traces?.triggerGracefulShutdown()
                _ = await exporting?.result
            } catch {
                try? await app.asyncShutdown()
                throw error
            }
        } catch let error as SettingsError {
            FileHandle.standardError.write(Data("chat-gateway: configuration error: \(error)\n".utf8))
            exit(78)  // EX_CONFIG
        } catch {
            FileHandle.standardError.write(Data("chat-gateway: \(error)\n".utf8))
            exit(1)
        }
    }

    /// Serving (the default command) migrates first and keeps the admin registry current; the other commands
    /// decide for themselves what they touch.
    static func isServing(_ environment: Environment) -> Bool {
        guard let command = environment.arguments.dropFirst().first else { return true }
        return command == "serve" || command.hasPrefix("-")
    }

    /// After the streams are stored, Vapor's shutdown closes the pools and clients. If that hangs (a pool waiting
    /// on a connection the database dropped, say), it must not keep the process alive until Kubernetes kills it:
    /// past `limit` it exits 0 anyway, as nothing is left unstored.
    static func closeConnections(of app: Application, within limit: Duration) async throws {
        let logger = app.logger
        let watchdog = Task {
            try await Task.sleep(for: limit)
            logger.error(
                "shutdown: closing connections took longer than the limit; exiting, every chat is stored",
                metadata: ["limit_s": .stringConvertible(limit.components.seconds)])
            exit(0)
        }
        defer { watchdog.cancel() }
        try await app.asyncShutdown()
    }

}
