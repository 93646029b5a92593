import Fluent

/// `gateway_secrets`: keys the gateway generates for itself once and every replica shares (the operator
/// sessions' signing key when `CHAT_GATEWAY_ENCRYPTION_KEY` is unset). `gateway_operator_sessions`: one row per
/// signed-in browser, so signing out ends a session for every copy of its cookie.
struct CreateOperatorSessions: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(GatewaySecrets.schema)
            .field("name", .string, .identifier(auto: false))
            .field("value", .string, .required)
            .create()
        try await database.schema(OperatorSessionStore.schema)
            .field("session_id", .string, .identifier(auto: false))
            .field("key_fingerprint", .string, .required)
            .field("created_at", .datetime, .required)
            .field("expires_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(OperatorSessionStore.schema).delete()
        try await database.schema(GatewaySecrets.schema).delete()
    }
}
