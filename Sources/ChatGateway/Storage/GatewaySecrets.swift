import Fluent
import Foundation
import SQLKit

/// Random secrets generated once per deployment and kept in the database, so every replica and every restart
/// uses the same one. The first process to ask creates it; the others read what it wrote.
struct GatewaySecrets: Sendable {
    static let schema = "gateway_secrets"

    let database: @Sendable () -> any Database

    /// The secret called `name`: 32 random bytes, hex.
    func secret(named name: String) async throws -> String {
        let sql = database() as! any SQLDatabase
        try await sql.raw(
            """
            INSERT INTO \(ident: Self.schema) (name, value) VALUES (\(bind: name), \(bind: String.randomHex(bytes: 32)))
            ON CONFLICT (name) DO NOTHING
            """
        ).run()
        let row = try await sql.select().column("value").from(Self.schema).where("name", .equal, SQLBind(name)).first()
        guard let value = try row?.decode(column: "value", as: String.self) else {
            throw GatewaySecretsError.missing(name)
        }
        return value
    }
}

enum GatewaySecretsError: Error, CustomStringConvertible {
    case missing(String)

    var description: String {
        switch self {
        case .missing(let name): "the secret \(name) could not be stored in the database"
        }
    }
}
