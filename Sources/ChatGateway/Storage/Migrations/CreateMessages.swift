import Fluent
import SQLKit

struct CreateMessages: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(StoredMessage.schema)
            .id()
            .field("message_id", .string, .required)
            .field("conversation_id", .string)
            .field("system_id", .string, .required)
            .field("user_id", .string, .required)
            .field("role", .string, .required)
            .field("content", .string, .required)
            .field("status", .string, .required)
            .field("error", .string)
            .field("task_id", .string)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "message_id")
            .create()
        // A conversation's messages in order, and a user's messages (failed ones have no conversation yet).
        try await (database as! any SQLDatabase).create(index: "gateway_messages_conversation_created")
            .on(StoredMessage.schema).column("conversation_id").column("created_at").run()
        try await (database as! any SQLDatabase).create(index: "gateway_messages_owner")
            .on(StoredMessage.schema).column("system_id").column("user_id").run()
        try await (database as! any SQLDatabase).create(index: "gateway_messages_task")
            .on(StoredMessage.schema).column("task_id").run()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(StoredMessage.schema).delete()
    }
}
