import Fluent
import Foundation
import SQLKit

/// Copies the seed's users, conversations and messages into the gateway's tables, a page at a time (keyset on
/// the legacy `id`), so memory stays flat however large the legacy database. Only inserts: a second run adds
/// nothing, and rows the gateway wrote itself are never touched.
struct LegacyImporter: Sendable {
    let source: LegacyDatabase
    let target: any SQLDatabase
    let now: @Sendable () -> Date
    var pageSize = 500
    /// Where `chat_systems` goes, with the sealer for its Dify keys; nil: not copied.
    var systems: (store: AdminStore, sealer: SecretSealer?)? = nil

    func run() async throws -> LegacyImportReport {
        let stamp = now()
        let gateway = GatewayRowLookup(sql: target)
        let mappings = source.tables.contains("conversation_mappings") ? FirstMappingLookup(source: source.sql) : nil
        // Conversations before messages (a message takes its conversation's owner); the cache before the
        // mappings (its rows bring names and dates).
        var tables = [
            try await copy(SyncUsersImport(gateway: gateway, stamp: stamp)),
            try await copy(CachedConversationsImport(gateway: gateway, firstMappings: mappings, stamp: stamp)),
            try await copy(MappingsImport(gateway: gateway, stamp: stamp)),
            try await copy(CachedMessagesImport(gateway: gateway, stamp: stamp)),
        ]
        // The imported turns enter the usage sums as chats of unknown usage.
        try await UsageRollup.rebuild(on: target)
        if let systems {
            tables.append(
                try await LegacySystemsImport(
                    source: source, store: systems.store, sealer: systems.sealer, stamp: stamp
                )
                .run())
        }
        return LegacyImportReport(tables: tables)
    }

    private func copy<Table: LegacyTableImport>(_ table: Table) async throws -> LegacyTableReport {
        var report = LegacyTableReport(table: table.table)
        guard source.tables.contains(table.table) else {
            report.found = false
            return report
        }
        var lastID: Int?
        while true {
            let rows = try await page(of: table, after: lastID)
            guard let last = rows.last else { break }
            lastID = try last.decode(column: "id", as: Int.self)
            var decoded: [Table.Row] = []
            var unreadable: [LegacyRowProblem] = []
            for row in rows {
                do { decoded.append(try table.decode(row)) } catch let problem as LegacyRowProblem {
                    unreadable.append(problem)
                }
            }
            var verdict = try await table.plan(decoded)
            for problem in unreadable { verdict.skip(problem.reason) }
            try await verdict.rows.run(on: target)
            report.count(read: rows.count, plan: verdict)
            if rows.count < pageSize { break }
        }
        return report
    }

    private func page<Table: LegacyTableImport>(of table: Table, after lastID: Int?) async throws -> [any SQLRow] {
        var query = source.sql.select().columns(table.columns).from(table.table).orderBy("id").limit(pageSize)
        if let lastID { query = query.where("id", .greaterThan, SQLBind(lastID)) }
        do {
            return try await query.all()
        } catch {
            throw LegacyImportError.unreadableTable(table.table, reason: String(reflecting: error))
        }
    }
}

/// What an import did, per legacy table.
struct LegacyImportReport: Sendable, Equatable {
    let tables: [LegacyTableReport]

    subscript(table: String) -> LegacyTableReport? { tables.first { $0.table == table } }

    var total: LegacyTableReport {
        tables.reduce(into: LegacyTableReport(table: "total")) { total, table in
            total.read += table.read
            total.added += table.added
            total.alreadyPresent += table.alreadyPresent
            total.skippedReasons.merge(table.skippedReasons, uniquingKeysWith: +)
        }
    }

    /// One line per table, then the total, names aligned.
    var lines: [String] {
        let width = (tables.map(\.table.count) + [5]).max()! + 2
        let total = total
        return (tables + [total]).map {
            $0.table.padding(toLength: width, withPad: " ", startingAt: 0) + $0.summary(withReasons: $0 != total)
        }
    }
}

struct LegacyTableReport: Sendable, Equatable {
    let table: String
    var found = true
    var read = 0
    var added = 0
    var alreadyPresent = 0
    var skippedReasons: [String: Int] = [:]

    var skipped: Int { skippedReasons.values.reduce(0, +) }

    mutating func count(read rows: Int, plan: LegacyPagePlan) {
        read += rows
        added += plan.rows.count
        alreadyPresent += plan.alreadyPresent
        skippedReasons.merge(plan.skipped, uniquingKeysWith: +)
    }

    func summary(withReasons: Bool) -> String {
        guard found else { return "not in the legacy database: nothing to copy" }
        var text = "read \(read), added \(added), already present \(alreadyPresent), skipped \(skipped)"
        if withReasons, !skippedReasons.isEmpty {
            text +=
                " ("
                + skippedReasons.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
                + ")"
        }
        return text
    }
}
