import Fluent

/// `gateway_leases`: who runs a once-per-deployment job (the scheduled sync) until when.
struct CreateLeases: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await database.schema(Lease.schema)
            .field("name", .string, .identifier(auto: false))
            .field("holder", .string, .required)
            .field("expires_at", .datetime, .required)
            .create()
    }

    func revert(on database: any Database) async throws {
        try await database.schema(Lease.schema).delete()
    }
}
