import Foundation
import SQLKit

/// `chat_systems` (kept by the Python gateway's admin app) → `gateway_systems`: display name, Dify URL and key
/// (sealed on the way in), origins and `enabled`. A system the gateway already has is left as it is, so a second
/// run changes nothing. The table is small and has no `id` to page by: it is read whole.
struct LegacySystemsImport: Sendable {
    static let table = "chat_systems"

    let source: LegacyDatabase
    let store: AdminStore
    let sealer: SecretSealer?
    let stamp: Date

    func run() async throws -> LegacyTableReport {
        var report = LegacyTableReport(table: Self.table)
        guard source.tables.contains(Self.table) else {
            report.found = false
            return report
        }
        let rows = try await source.sql.select().column("*").from(Self.table).all()
        let present = Set(try await store.systems().map(\.systemID))
        for row in rows {
            report.read += 1
            switch try plan(row, present: present) {
            case .add(let system):
                try await store.save(
                    system,
                    audit: AuditEntry(
                        at: stamp, actor: "import-legacy", action: "system.imported",
                        target: system.systemID, detail: "from chat_systems"))
                report.added += 1
            case .present: report.alreadyPresent += 1
            case .skip(let reason): report.skippedReasons[reason, default: 0] += 1
            }
        }
        return report
    }

    private enum Plan {
        case add(AdminStore.SystemRow)
        case present
        case skip(String)
    }

    private func plan(_ row: any SQLRow, present: Set<String>) throws -> Plan {
        guard let systemID = row.optionalText("system_id"), IdentityRules.isValidSystemID(systemID) else {
            return .skip("system_id not usable by the gateway")
        }
        guard !present.contains(systemID) else { return .present }
        var sealed: String?
        var hint: String?
        if let key = row.optionalText("dify_api_key"), !key.isEmpty {
            guard let sealer else { return .skip("a Dify key needs CHAT_GATEWAY_ENCRYPTION_KEY") }
            sealed = try sealer.seal(key)
            hint = SecretSealer.hint(key)
        }
        let origins = Self.origins(row.optionalText("allowed_origins"))
        let enabled =
            (try? row.decode(column: "enabled", as: Bool?.self)).flatMap { $0 }
            ?? (try? row.decode(column: "enabled", as: Int?.self)).flatMap { $0 }.map { $0 != 0 } ?? true
        return .add(
            AdminStore.SystemRow(
                systemID: systemID,
                name: row.optionalText("display_name").flatMap { $0.isEmpty ? nil : $0 } ?? systemID,
                difyBaseURL: row.optionalText("dify_base_url").flatMap { $0.isEmpty ? nil : $0 },
                difyAPIKeySealed: sealed, difyAPIKeyHint: hint,
                allowedOrigins: AdminStore.text(ofList: origins), enabled: enabled,
                createdAt: LegacyTimestamp.decode(row, column: "created_at") ?? stamp,
                updatedAt: LegacyTimestamp.decode(row, column: "updated_at") ?? stamp))
    }

    /// A JSON array, or a comma list, as the admin app wrote it.
    static func origins(_ text: String?) -> [String] {
        guard let text, !text.isEmpty else { return [] }
        let items =
            (try? JSONDecoder().decode([String].self, from: Data(text.utf8)))
            ?? text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return items.compactMap { URL(string: $0).flatMap(OriginPolicy.origin(of:)) }
    }
}
