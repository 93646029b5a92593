import Foundation
import Vapor

/// A client system defined through the admin API, as every replica holds it in memory.
struct ManagedSystem: Sendable, Equatable {
    enum DifyKey: Sendable, Equatable {
        case none
        case key(String)
        /// Sealed under another `CHAT_GATEWAY_ENCRYPTION_KEY`: the system answers 503 until it is set again.
        case unreadable
    }

    var systemID: String
    var name: String
    var difyBaseURL: URL?
    var difyKey: DifyKey
    var difyKeyHint: String?
    var allowedOrigins: [String]
    var enabled: Bool
    var rateLimitPerUser: String?
    var maxStreamsPerUser: Int?
    /// nil: `BUDGET_PER_USER` applies; set, it replaces it for this system.
    var budget: SystemBudget?
    var budgetFields: SystemBudgetFields?
    /// Its model id on `/openai/v1`, when not its `system_id`.
    var openAIModel: String? = nil
    /// Where its answers' sources link to.
    var sourceLinks = SourceLinks()
    /// Whether its chat page reads `$…$` as math.
    var inlineMath = false
    /// Days its messages are kept: nil, `RETENTION_DAYS`; 0, until deleted.
    var retentionDays: Int? = nil
    /// Whether retention deletes its expired conversations in Dify too.
    var retentionDeleteInDify = false
    /// Whether its chat page offers the signed-in user their own data.
    var selfExport = false
    var createdAt: Date
    var updatedAt: Date
}

/// An API key issued through the admin API. Only its SHA-256 is stored.
struct ManagedKey: Sendable, Equatable {
    enum Kind: String, Sendable, Codable, CaseIterable {
        case server, browser
    }

    var id: UUID
    var keyHash: String
    var prefix: String
    var name: String
    /// Empty: every system (server keys only).
    var systems: [String]
    var kind: Kind
    var createdAt: Date
    var expiresAt: Date?
    var lastUsedAt: Date?
    var revokedAt: Date?

    var scope: KeyScope { systems.isEmpty ? .allSystems : .systems(Set(systems)) }

    func isUsable(at now: Date) -> Bool { revokedAt == nil && (expiresAt.map { $0 > now } ?? true) }
}

/// One admin change, or a failed admin sign-in. `actor` is an admin key's fingerprint, never the key.
struct AuditEntry: Sendable, Equatable, Content {
    var id: UUID
    var at: Date
    var actor: String
    var action: String
    var target: String
    var detail: String
}

extension AuditEntry {
    /// A new entry, its id time-ordered from `at` (the log pages by id).
    init(at: Date, actor: String, action: String, target: String, detail: String) {
        self.init(id: UUID.newRowID(now: at), at: at, actor: actor, action: action, target: target, detail: detail)
    }
}
