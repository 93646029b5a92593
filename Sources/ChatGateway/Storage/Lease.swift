import Fluent
import Foundation
import SQLKit

/// A named lease in the shared database: replicas on one database use it so a job runs on one of them at a
/// time. Taken with one upsert that only overwrites an expired lease (or our own), so two replicas can't both
/// win; renewed while the job runs; a crashed holder's lease simply expires.
struct Lease: Sendable {
    static let schema = "gateway_leases"

    let name: String
    /// This process: replicas must differ (host, pid and a random part).
    let holder: String
    let database: @Sendable () -> any Database
    let now: @Sendable () -> Date
    var duration: TimeInterval = 120

    static func processHolder() -> String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))"
    }

    /// True when this process holds the lease now (taken or renewed).
    func acquire() async throws -> Bool {
        let sql = database() as! any SQLDatabase
        let stamp = now()
        try await sql.raw(
            """
            INSERT INTO \(ident: Self.schema) (name, holder, expires_at) VALUES (\(bind: name), \(bind: holder), \(bind: stamp.addingTimeInterval(duration)))
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
            WHERE \(ident: Self.schema).expires_at < \(bind: stamp) OR \(ident: Self.schema).holder = excluded.holder
            """
        ).run()
        let row = try await sql.select().column("holder").from(Self.schema).where("name", .equal, SQLBind(name)).first()
        return try row?.decode(column: "holder", as: String.self) == holder
    }

    func release() async throws {
        try await (database() as! any SQLDatabase).delete(from: Self.schema)
            .where("name", .equal, SQLBind(name)).where("holder", .equal, SQLBind(holder)).run()
    }

    /// Runs `body` holding the lease, renewing it at a third of its duration; nil when another holder has it.
    func whileHeld<T: Sendable>(_ body: @Sendable () async -> T) async throws -> T? {
        guard try await acquire() else { return nil }
        let renewal = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(duration / 3))
                if Task.isCancelled { return }
                _ = try? await acquire()
            }
        }
        let result = await body()
        renewal.cancel()
        try? await release()
        return result
    }
}
