import Fluent
import SQLKit

struct CreateChatUsers: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(ChatUser.schema)
            .id()
            .field("system_id", .string, .required)
            .field("user_id", .string, .required)
            .field("dify_user", .string, .required)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .unique(on: "system_id", "user_id")
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(ChatUser.schema).delete()
    }
}
