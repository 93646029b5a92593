import Fluent
import SQLKit

/// What the admin API manages as data: client systems (`gateway_systems`, Dify keys encrypted), API keys
/// (`gateway_api_keys`, SHA-256 hashes only), the audit log (`gateway_audit`), and `gateway_registry_version`, one
/// row whose number every admin change moves, so replicas notice a change with one cheap read.
struct CreateAdminTables: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(AdminStore.systemsTable)
            .field("system_id", .string, .identifier(auto: false))
            .field("name", .string, .required)
            .field("dify_base_url", .string)
            .field("dify_api_key_sealed", .string)
            .field("dify_api_key_hint", .string)
            .field("allowed_origins", .string, .required)
            .field("enabled", .bool, .required)
            .field("rate_limit_per_user", .string)
            .field("max_streams_per_user", .int)
            .field("created_at", .datetime, .required)
            .field("updated_at", .datetime, .required)
            .create()
        try await database.schema(AdminStore.keysTable)
            .field("id", .uuid, .identifier(auto: false))
            .field("key_hash", .string, .required)
            .field("prefix", .string, .required)
            .field("name", .string, .required)
            .field("systems", .string, .required)
            .field("kind", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime)
            .field("last_used_at", .datetime)
            .field("revoked_at", .datetime)
            .unique(on: "key_hash")
            .create()
        try await database.schema(AdminStore.auditTable)
            .field("id", .uuid, .identifier(auto: false))
            .field("at", .datetime, .required)
            .field("actor", .string, .required)
            .field("action", .string, .required)
            .field("target", .string, .required)
            .field("detail", .string, .required)
            .create()
        try await database.schema(AdminStore.versionTable)
            .field("id", .int, .identifier(auto: false))
            .field("version", .int64, .required)
            .create()
        try await (database as! any SQLDatabase).raw(
            "CREATE INDEX gateway_audit_at ON gateway_audit (at, id)"
        ).run()
        try await (database as! any SQLDatabase).insert(into: AdminStore.versionTable)
            .columns("id", "version").values(SQLBind(1), SQLBind(Int64(0))).run()
    }

    func revert(on database: any Database) async throws {
        for table in [AdminStore.versionTable, AdminStore.auditTable, AdminStore.keysTable, AdminStore.systemsTable] {
            try await database.schema(table).delete()
        }
    }
}
