import Fluent
import SQLKit

struct CreateConversations: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(StoredConversation.schema)
            .id()
            .field("conversation_id", .string, .required)
            .field("system_id", .string, .required)
            .field("user_id", .string, .required)
            .field("dify_user", .string, .required)
            .field("name", .string)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .field("dify_updated_at", .datetime)
            .field("synced_at", .datetime)
            .field("deleted_at", .datetime)
            .unique(on: "conversation_id")
            .create()
        // Listing a user's conversations newest first, and the cache API's date filters.
        try await (database as! any SQLDatabase).create(index: "gateway_conversations_owner_created")
            .on(StoredConversation.schema).column("system_id").column("user_id").column("created_at").run()
        try await (database as! any SQLDatabase).create(index: "gateway_conversations_created")
            .on(StoredConversation.schema).column("created_at").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(StoredConversation.schema).delete()
    }
}
