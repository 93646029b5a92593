import Fluent
import Vapor

/// `chat-gateway migrate`: applies pending migrations without asking (Fluent's own command prompts, which breaks scripts).
struct MigrateCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Creates or updates the gateway's tables, then exits." }
    let migrations: MigrationRunner

    func run(using context: CommandContext, signature: Signature) async throws {
        try await migrations.run(on: context.application)
        context.console.print("Migrations are up to date.")
    }
}
