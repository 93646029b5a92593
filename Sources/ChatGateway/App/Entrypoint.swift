import Foundation
import Logging
import Vapor

/// What `chat-gateway` runs: read the environment (and `.env`), configure, execute the command.
public enum ChatGatewayEntrypoint {
    public static func run() async {
        do {
            FileDescriptorLimit.raiseToHardLimit()
            var environment = try Environment.detect()
            // Logs go to stderr so commands like gen-jwt and gen-env print only their result on stdout.
            let level = try Logger.Level.detect(from: &environment)
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
            let app = try await Application.make(environment)  // also loads `.env` into the process environment
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
                try await app.execute()
                try await app.asyncShutdown()
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
}
