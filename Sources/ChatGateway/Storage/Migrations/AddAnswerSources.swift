import Fluent

/// What the chat page keeps with a turn: an answer's `retriever_resources` (JSON text, the sources Dify cited), a
/// user message's `files` (JSON text, Dify's `files` items) and `regenerates` (the Dify message id of the first
/// attempt, on a question asked again); and a system's `source_links` (JSON text) and `inline_math`.
/// One column per statement: SQLite adds one column per `ALTER TABLE`.
struct AddAnswerSources: AsyncMigration {
    func prepare(on database: any Database) async throws {
        for column in ["retriever_resources", "files", "regenerates"] {
            try await database.schema(StoredMessage.schema).field(.string(column), .string).update()
        }
        try await database.schema(AdminStore.systemsTable).field("source_links", .string).update()
        try await database.schema(AdminStore.systemsTable).field("inline_math", .bool).update()
    }

    func revert(on database: any Database) async throws {
        for column in ["inline_math", "source_links"] {
            try await database.schema(AdminStore.systemsTable).deleteField(.string(column)).update()
        }
        for column in ["regenerates", "files", "retriever_resources"] {
            try await database.schema(StoredMessage.schema).deleteField(.string(column)).update()
        }
    }
}
