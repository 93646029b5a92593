import Fluent
import SQLKit
import Vapor

/// `chat-gateway import-legacy <source>`: copies the Python gateway's tables into this one's, then prints
/// one line per legacy table and a total. Safe to repeat: a second run adds nothing.
struct ImportLegacyCommand: AsyncCommand {
    struct Signature: CommandSignature {
        @Argument(
            name: "source",
            help: "The Python gateway's database: a SQLite file, sqlite:///path, or postgres://user:pass@host:5432/db")
        var source: String
    }

    var help: String {
        "Copies the Python gateway's users, conversations and messages (sync_users, conversation_mappings, conversation_cache, message_cache) and its client systems (chat_systems, Dify keys sealed with CHAT_GATEWAY_ENCRYPTION_KEY) into the gateway's tables."
    }

    let now: @Sendable () -> Date
    let migrations: MigrationRunner
    let sealer: SecretSealer?

    func run(using context: CommandContext, signature: Signature) async throws {
        let app = context.application
        let location = try LegacyDatabase.location(of: signature.source)
        // The source first: a wrong path or URL fails before the gateway's own database is touched.
        let legacy = try await LegacyDatabase.open(location, on: app)
        try await migrations.run(on: app)
        context.console.print("importing from \(location.redacted)")
        let importer = LegacyImporter(
            source: legacy, target: app.db as! any SQLDatabase, now: now,
            systems: (AdminStore(database: { [unowned app] in app.db }), sealer))
        for line in try await importer.run().lines { context.console.print(line) }
    }
}
