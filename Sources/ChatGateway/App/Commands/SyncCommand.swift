import Vapor

/// `chat-gateway sync`: one history sync from the command line, with progress, then a summary.
/// Exits non-zero when some users could not be synced.
struct SyncCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String {
        "Copies every known user's conversations and messages from Dify into the gateway's tables, once."
    }

    let makeSync: @Sendable (Application) -> HistorySync
    let migrations: MigrationRunner
    /// Reads the admin API's systems, so each is synced from its own Dify (the command does not serve, so no
    /// polling has read them).
    let loadSystems: @Sendable () async throws -> Void

    func run(using context: CommandContext, signature: Signature) async throws {
        try await migrations.run(on: context.application)
        try await loadSystems()
        let console = context.console
        let sync = makeSync(context.application)
        let report = await sync.run { done, total in
            console.output("\rusers synced: \(done)/\(total)".consoleText(), newLine: false)
        }
        console.print("")
        console.print(
            """
            users \(report.users), conversations synced \(report.conversationsSynced), skipped (unchanged) \(report.conversationsSkipped), \
            marked deleted \(report.conversationsDeleted); messages added \(report.messagesAdded), updated \(report.messagesUpdated); \
            \(report.durationMS) ms
            """)
        for error in report.errors { console.error("\(error.systemID)/\(error.userID): \(error.detail)") }
        if !report.errors.isEmpty { throw SyncCommandError(failures: report.errors.count) }
    }
}

struct SyncCommandError: Error, CustomStringConvertible {
    let failures: Int
    var description: String { "\(failures) user(s) could not be synced" }
}
