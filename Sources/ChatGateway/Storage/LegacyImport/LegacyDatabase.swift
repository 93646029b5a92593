import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import Foundation
import SQLKit
import Vapor

extension DatabaseID {
    /// The seed's database while `import-legacy` reads it, beside the gateway's own.
    static let legacy = DatabaseID(string: "legacy")
}

/// The seed's database, opened for reading, and which of its tables exist.
struct LegacyDatabase: Sendable {
    let sql: any SQLDatabase
    let tables: Set<String>

    /// A path to a SQLite file, `sqlite:///path`, or `postgres://` / `postgresql://` (SQLAlchemy's `+driver`
    /// suffix is dropped): the seed's own `DATABASE_URL` works as it is.
    static func location(of argument: String) throws -> Settings.Database {
        guard argument.contains("://") else { return .sqlite(path: argument) }
        do {
            return try Settings.parseDatabaseURL(argument)
        } catch let error as SettingsError {
            throw LegacyImportError.badSource(error.problem)
        }
    }

    static func open(_ location: Settings.Database, on app: Application) async throws -> LegacyDatabase {
        switch location {
        case .sqlite(let path):
            // SQLite would create a missing file and then report an empty database.
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw LegacyImportError.cannotOpen(source: location.redacted, reason: "no readable file there")
            }
            app.databases.use(.sqlite(.file(path)), as: .legacy)
        case .postgres(let url):
            app.databases.use(try .postgres(url: url), as: .legacy)
        }
        // A configuration replaced under an id keeps the driver already made for it; opening anew must not read the old source.
        app.databases.reinitialize(.legacy)
        let sql = app.db(.legacy) as! any SQLDatabase
        do {
            return LegacyDatabase(sql: sql, tables: try await tableNames(in: sql, location))
        } catch {
            // PostgresNIO keeps the details out of `description`, so that they do not leak into logs by accident.
            throw LegacyImportError.cannotOpen(source: location.redacted, reason: String(reflecting: error))
        }
    }

    /// Also the proof that the source is a database at all: a text file fails here, not halfway through.
    private static func tableNames(in sql: any SQLDatabase, _ location: Settings.Database) async throws -> Set<String> {
        let query: SQLQueryString =
            switch location {
            case .sqlite: "SELECT name FROM sqlite_master WHERE type = 'table'"
            case .postgres:
                "SELECT tablename::text AS name FROM pg_tables WHERE schemaname = ANY (current_schemas(false))"
            }
        return Set(try await sql.raw(query).all().map { try $0.decode(column: "name", as: String.self) })
    }
}

extension Settings.Database {
    /// Where the database is, without its password: for messages and the command's output.
    var redacted: String {
        switch self {
        case .sqlite(let path):
            return path
        case .postgres(let url):
            guard var components = URLComponents(string: url) else { return "a PostgreSQL database" }
            if components.password != nil { components.password = "***" }
            return components.string ?? "a PostgreSQL database"
        }
    }
}

enum LegacyImportError: Error, CustomStringConvertible, Equatable {
    case badSource(String)
    case cannotOpen(source: String, reason: String)
    case unreadableTable(String, reason: String)

    var description: String {
        switch self {
        case .badSource(let problem): "import-legacy: \(problem)"
        case .cannotOpen(let source, let reason): "import-legacy: cannot open the legacy database \(source): \(reason)"
        case .unreadableTable(let table, let reason): "import-legacy: cannot read the legacy table \(table): \(reason)"
        }
    }
}
