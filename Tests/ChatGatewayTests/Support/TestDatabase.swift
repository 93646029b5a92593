import FluentPostgresDriver
import Foundation
import Logging
import NIOPosix
import Testing

@testable import ChatGateway

/// Where a test's gateway keeps its tables: a throwaway SQLite file by default, or, when `TEST_DATABASE_URL`
/// names a PostgreSQL server (`postgres://user:pass@127.0.0.1:5432/db`), a throwaway database created on it
/// (the user needs CREATEDB). Either way every test starts empty and leaves nothing behind.
struct TestDatabase: Sendable {
    let settings: Settings.Database
    private let drop: @Sendable () async -> Void

    static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else { return nil }
        return url
    }

    /// Which store the suite runs on, for test names and skip reasons.
    static var storeName: String { postgresURL == nil ? "SQLite" : "PostgreSQL" }

    /// At most this many gateways hold a PostgreSQL database at once (each keeps a few connections open,
    /// and the server's default limit is 100 clients); tests beyond it wait their turn.
    static let postgresSlots = AsyncSlots(count: 12)

    static func make() async throws -> TestDatabase {
        guard let serverURL = postgresURL else {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent(
                "gateway-test-\(UUID().uuidString).db"
            ).path
            return TestDatabase(settings: .sqlite(path: path)) {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
            }
        }
        await postgresSlots.acquire()
        let name = "gw_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        // template0: concurrent CREATE DATABASE from template1 fails while another session is copying it.
        do {
            try await admin(serverURL, "CREATE DATABASE \"\(name)\" TEMPLATE template0")
        } catch {
            await postgresSlots.release()
            throw error
        }
        var components = URLComponents(string: serverURL)!
        components.path = "/" + name
        return TestDatabase(settings: .postgres(url: components.string!)) {
            try? await admin(serverURL, "DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)")
            await postgresSlots.release()
        }
    }

    func remove() async { await drop() }

    /// One statement on the server's own database (CREATE/DROP DATABASE cannot run inside the test's).
    private static func admin(_ serverURL: String, _ sql: String) async throws {
        let configuration = try SQLPostgresConfiguration(url: serverURL).coreConfiguration
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 1,
            logger: Logger(label: "test-database")
        ).get()
        defer { Task { try? await connection.close() } }
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test-database"))
        } catch {
            throw TestDatabaseError(description: "\(sql): \(String(reflecting: error))")
        }
    }
}

struct TestDatabaseError: Error, CustomStringConvertible {
    let description: String
}

/// A counting semaphore for async code.
actor AsyncSlots {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(count: Int) { free = count }

    func acquire() async {
        if free > 0 { free -= 1; return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

extension Trait where Self == TimeLimitTrait {
    /// Every suite's limit, which only catches a hang: it also counts a test's wait for a PostgreSQL slot, which on a
    /// loaded machine can be most of the run.
    static var hangLimit: Self { .timeLimit(.minutes(10)) }
}
