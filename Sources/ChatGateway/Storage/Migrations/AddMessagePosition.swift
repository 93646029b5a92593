import Fluent
import SQLKit

/// A turn's place in its conversation, so turns stored within one instant (a sync, an import) keep Dify's order.
struct AddMessagePosition: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(StoredMessage.schema)
            .field("position", .int64, .required, .sql(.default(0)))
            .update()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(StoredMessage.schema).deleteField("position").update()
    }
}
