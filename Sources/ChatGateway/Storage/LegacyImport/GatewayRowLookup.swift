import Foundation
import SQLKit

/// What the gateway's tables already hold for one page of legacy rows: one indexed `IN (…)` query per page,
/// so an import knows what is new without reading whole tables into memory.
struct GatewayRowLookup: Sendable {
    let sql: any SQLDatabase

    /// `LegacyOwner.key`s of the users with these user ids.
    func userKeys(userIDs: [String]) async throws -> Set<String> {
        let rows = try await select(["system_id", "user_id"], from: ChatUser.schema, where: "user_id", in: userIDs)
        return Set(
            try rows.map {
                "\(try $0.decode(column: "system_id", as: String.self))\u{0}\(try $0.decode(column: "user_id", as: String.self))"
            })
    }

    /// The owner of each of these conversations the gateway knows.
    func conversationOwners(_ conversationIDs: [String]) async throws -> [String: LegacyOwner] {
        let rows = try await select(
            ["conversation_id", "system_id", "user_id", "dify_user"], from: StoredConversation.schema,
            where: "conversation_id", in: conversationIDs)
        var owners: [String: LegacyOwner] = [:]
        for row in rows { owners[try row.decode(column: "conversation_id", as: String.self)] = try LegacyOwner(row) }
        return owners
    }

    func messageIDs(_ messageIDs: [String]) async throws -> Set<String> {
        let rows = try await select(["message_id"], from: StoredMessage.schema, where: "message_id", in: messageIDs)
        return Set(try rows.map { try $0.decode(column: "message_id", as: String.self) })
    }

    private func select(
        _ columns: [String], from table: String, where column: String, in values: [String]
    ) async throws -> [any SQLRow] {
        let distinct = Array(Set(values))
        guard !distinct.isEmpty else { return [] }
        return try await sql.select().columns(columns).from(table).where(
            SQLColumn(column), .in, SQLBind.group(distinct)
        ).all()
    }
}
