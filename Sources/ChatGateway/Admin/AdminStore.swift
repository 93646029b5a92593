import Fluent
import Foundation
import SQLKit

/// The admin API's tables. Every change is one transaction with its audit entry and a move of the registry
/// version, so every replica sees the change and the log together.
struct AdminStore: Sendable {
    static let systemsTable = "gateway_systems"
    static let keysTable = "gateway_api_keys"
    static let auditTable = "gateway_audit"
    static let versionTable = "gateway_registry_version"

    let database: @Sendable () -> any Database

    private var sql: any SQLDatabase { database() as! any SQLDatabase }

    struct SystemRow: Codable, Sendable, Equatable {
        var systemID: String
        var name: String
        var difyBaseURL: String?
        var difyAPIKeySealed: String?
        var difyAPIKeyHint: String?
        /// A JSON array of origins.
        var allowedOrigins: String
        var enabled: Bool
        var rateLimitPerUser: String?
        var maxStreamsPerUser: Int?
        /// `SystemBudgetFields` as JSON; nil: none.
        var budget: String? = nil
        var openAIModel: String? = nil
        /// `[SourceLink]` as JSON; nil: none.
        var sourceLinks: String? = nil
        var inlineMath: Bool? = nil
        var retentionDays: Int? = nil
        var retentionDeleteInDify: Bool? = nil
        var selfExport: Bool? = nil
        var createdAt: Date
        var updatedAt: Date

        enum CodingKeys: String, CodingKey {
            case systemID = "system_id", name, difyBaseURL = "dify_base_url", difyAPIKeySealed = "dify_api_key_sealed"
            case openAIModel = "openai_model", sourceLinks = "source_links", inlineMath = "inline_math"
            case retentionDays = "retention_days", retentionDeleteInDify = "retention_delete_in_dify"
            case selfExport = "self_export"
            case difyAPIKeyHint = "dify_api_key_hint", allowedOrigins = "allowed_origins", enabled
            case rateLimitPerUser = "rate_limit_per_user", maxStreamsPerUser = "max_streams_per_user", budget
            case createdAt = "created_at", updatedAt = "updated_at"
        }
    }

    struct KeyRow: Codable, Sendable, Equatable {
        var id: UUID
        var keyHash: String
        var prefix: String
        var name: String
        /// A JSON array of system ids; empty: every system.
        var systems: String
        var kind: String
        var createdAt: Date
        var expiresAt: Date?
        var lastUsedAt: Date?
        var revokedAt: Date?

        enum CodingKeys: String, CodingKey {
            case id, keyHash = "key_hash", prefix, name, systems, kind, createdAt = "created_at"
            case expiresAt = "expires_at", lastUsedAt = "last_used_at", revokedAt = "revoked_at"
        }
    }

    /// How the list columns (`allowed_origins`, `systems`) hold their items: a JSON array of strings.
    static func text(ofList items: [String]) -> String {
        String(decoding: try! JSONEncoder().encode(items), as: UTF8.self)
    }

    /// The items of a list column; text that is not a JSON array of strings holds none.
    static func list(fromText text: String) -> [String] {
        (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }

    func version() async throws -> Int64 {
        try await sql.select().column("version").from(Self.versionTable).where("id", .equal, SQLBind(1))
            .first()?.decode(column: "version", as: Int64.self) ?? 0
    }

    func systems() async throws -> [SystemRow] {
        try await sql.select().column("*").from(Self.systemsTable).orderBy("system_id").all(decoding: SystemRow.self)
    }

    func keys() async throws -> [KeyRow] {
        try await sql.select().column("*").from(Self.keysTable).orderBy("created_at").all(decoding: KeyRow.self)
    }

    /// Creates the system, or replaces every column of an existing one but `created_at`.
    func save(_ row: SystemRow, audit: AuditEntry) async throws {
        try await change(audit) { sql in
            try await sql.insert(into: Self.systemsTable).model(row, nilEncodingStrategy: .asNil)
                .onConflict(with: ["system_id"]) { set in
                    SystemRow.CodingKeys.allColumns.filter { $0 != "system_id" && $0 != "created_at" }
                        .reduce(set) { $0.set(excludedValueOf: $1) }
                }.run()
        }
    }

    /// Removes the system's row; its stored conversations stay.
    func deleteSystem(_ systemID: String, audit: AuditEntry) async throws {
        try await change(audit) { sql in
            try await sql.delete(from: Self.systemsTable).where("system_id", .equal, SQLBind(systemID)).run()
        }
    }

    func insert(_ row: KeyRow, audit: AuditEntry) async throws {
        try await change(audit) { sql in
            try await sql.insert(into: Self.keysTable).model(row, nilEncodingStrategy: .asNil).run()
        }
    }

    /// Marks the key revoked; false when there is no such key or it was revoked already.
    func revokeKey(_ id: UUID, at stamp: Date, audit: AuditEntry) async throws -> Bool {
        let found =
            try await sql.select().column("id").from(Self.keysTable).where("id", .equal, SQLBind(id))
            .where("revoked_at", .is, SQLLiteral.null).first() != nil
        guard found else { return false }
        try await change(audit) { sql in
            try await sql.update(Self.keysTable).set("revoked_at", to: SQLBind(stamp)).where("id", .equal, SQLBind(id))
                .run()
        }
        return true
    }

    /// `last_used_at`, which does not move the registry version (it changes no decision).
    func touchKey(_ id: UUID, at stamp: Date) async throws {
        try await sql.update(Self.keysTable).set("last_used_at", to: SQLBind(stamp)).where("id", .equal, SQLBind(id))
            .run()
    }

    /// An entry that changes nothing else (a failed sign-in).
    func record(_ entry: AuditEntry) async throws {
        try await sql.insert(into: Self.auditTable).model(entry).run()
    }

    /// Newest first (ids are time-ordered UUIDs); `before` is the id of the last entry of the previous page.
    func audit(from: Date?, to: Date?, limit: Int, before: UUID?) async throws -> [AuditEntry] {
        var query = sql.select().column("*").from(Self.auditTable)
        if let from { query = query.where("at", .greaterThanOrEqual, SQLBind(from)) }
        if let to { query = query.where("at", .lessThan, SQLBind(to)) }
        if let before { query = query.where("id", .lessThan, SQLBind(before)) }
        return try await query.orderBy("id", .descending).limit(limit).all(decoding: AuditEntry.self)
    }

    /// `write` and its audit entry in one transaction, moving the registry version.
    @discardableResult
    func change<Value: Sendable>(
        _ audit: AuditEntry, _ write: @escaping @Sendable (any SQLDatabase) async throws -> Value
    ) async throws -> Value {
        try await database().transaction { transaction in
            let sql = transaction as! any SQLDatabase
            // A write first: on SQLite a change that read first could not write after a chat's commit.
            try await sql.update(Self.versionTable).set("version", to: SQLRaw("version + 1"))
                .where("id", .equal, SQLBind(1)).run()
            let value = try await write(sql)
            try await sql.insert(into: Self.auditTable).model(audit).run()
            return value
        }
    }
}

extension AdminStore.SystemRow.CodingKeys: CaseIterable {
    static var allColumns: [String] { allCases.map(\.rawValue) }
}
