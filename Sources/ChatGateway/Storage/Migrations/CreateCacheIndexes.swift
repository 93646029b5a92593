import Fluent
import SQLKit

/// The operators' listing filters by system and pages newest first: without this index a system with many
/// conversations is sorted in full for every page.
struct CreateCacheIndexes: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).create(index: "gateway_conversations_system_created")
            .on(StoredConversation.schema).column("system_id").column("created_at").column("conversation_id").run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).drop(index: "gateway_conversations_system_created").run()
    }
}
