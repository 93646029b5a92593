import Fluent
import SQLKit
import Vapor

/// `chat-gateway recount-usage`: recomputes the usage report's daily sums from the stored messages, for after
/// rows were changed by hand or restored from a backup. Deleted conversations' usage is not in the messages any
/// more, so it is gone from the recount; run it while no chats arrive.
struct RecountUsageCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String { "Recomputes the usage report's daily sums from the stored messages, then exits." }
    let migrations: MigrationRunner

    func run(using context: CommandContext, signature: Signature) async throws {
        try await migrations.run(on: context.application)
        try await context.application.db.transaction { database in
            try await UsageRollup.rebuild(on: database as! any SQLDatabase)
        }
        context.console.print("Usage sums recounted from the messages.")
    }
}
