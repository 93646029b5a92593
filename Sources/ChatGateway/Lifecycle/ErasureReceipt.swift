import Foundation
import Vapor

/// What an erasure did, step by step, as `GET /admin/v1/erasures/{id}` shows it. It names the person only by
/// their pseudonym (`subject`).
struct ErasureReceipt: Content, Equatable {
    enum Status: String, Codable, Sendable { case running, completed, failed }

    struct Step: Codable, Sendable, Equatable {
        enum Name: String, Codable, Sendable, CaseIterable {
            case refuseNewChats = "refuse_new_chats", dify, gateway, ledger, storage, notify
        }
        var name: Name
        var status: String = "pending"
        var finishedAt: String? = nil
        var detail: String? = nil

        enum CodingKeys: String, CodingKey { case name, status, finishedAt = "finished_at", detail }

        func encode(to encoder: any Encoder) throws {
            var fields = encoder.container(keyedBy: CodingKeys.self)
            try fields.encode(name, forKey: .name)
            try fields.encode(status, forKey: .status)
            try fields.encode(finishedAt, forKey: .finishedAt)
            try fields.encode(detail, forKey: .detail)
        }
    }

    /// One Dify app the system uses.
    struct DifyApp: Codable, Sendable, Equatable {
        var app: String
        var conversationsFound = 0
        var conversationsDeleted = 0
        var confirmedGone = false
        var retries = 0

        enum CodingKeys: String, CodingKey {
            case app, conversationsFound = "conversations_found", conversationsDeleted = "conversations_deleted"
            case confirmedGone = "confirmed_gone", retries
        }
    }

    struct Storage: Codable, Sendable, Equatable {
        var engine: String
        var secureDelete = false
        var walCheckpoint: String? = nil
        var vacuumed: [String] = []

        enum CodingKeys: String, CodingKey {
            case engine, secureDelete = "secure_delete", walCheckpoint = "wal_checkpoint", vacuumed
        }
    }

    var id: String
    var status: Status
    var systemID: String
    var subject: String
    var requestedBy: String
    /// ISO 8601, as every time the admin API shows.
    var startedAt: String
    var finishedAt: String? = nil
    var error: String? = nil
    var steps: [Step] = Step.Name.allCases.map { Step(name: $0) }
    /// Rows deleted in the gateway, by kind.
    var gateway: [String: Int] = [:]
    var dify: [DifyApp] = []
    var difyConversationsDeleted = 0
    var retries = 0
    var ledger: [String: Int] = [:]
    var storage: Storage? = nil
    var difyKeeps: [String] = Self.whatDifyKeeps
    var difyVersion = Self.difyVersionNote

    enum CodingKeys: String, CodingKey {
        case id, status, systemID = "system_id", subject, requestedBy = "requested_by", startedAt = "started_at"
        case finishedAt = "finished_at", error, steps, gateway, dify
        case difyConversationsDeleted = "dify_conversations_deleted", retries, ledger, storage
        case difyKeeps = "dify_keeps", difyVersion = "dify_version"
    }

    /// Nulls stay in the receipt: a reader sees a step not finished rather than a field missing.
    func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: CodingKeys.self)
        try fields.encode(id, forKey: .id)
        try fields.encode(status, forKey: .status)
        try fields.encode(systemID, forKey: .systemID)
        try fields.encode(subject, forKey: .subject)
        try fields.encode(requestedBy, forKey: .requestedBy)
        try fields.encode(startedAt, forKey: .startedAt)
        try fields.encode(finishedAt, forKey: .finishedAt)
        try fields.encode(error, forKey: .error)
        try fields.encode(steps, forKey: .steps)
        try fields.encode(gateway, forKey: .gateway)
        try fields.encode(dify, forKey: .dify)
        try fields.encode(difyConversationsDeleted, forKey: .difyConversationsDeleted)
        try fields.encode(retries, forKey: .retries)
        try fields.encode(ledger, forKey: .ledger)
        try fields.encode(storage, forKey: .storage)
        try fields.encode(difyKeeps, forKey: .difyKeeps)
        try fields.encode(difyVersion, forKey: .difyVersion)
    }

    mutating func mark(_ name: Step.Name, _ status: String, at date: Date? = nil, detail: String? = nil) {
        guard let index = steps.firstIndex(where: { $0.name == name }) else { return }
        steps[index].status = status
        steps[index].finishedAt = date.map(ISO8601.string)
        if let detail { steps[index].detail = detail }
    }

    /// What Dify's Service API cannot delete, so an erasure through it leaves behind.
    static let whatDifyKeeps = [
        "Dify's end-user row for the user (its end_users table: the session id, which is the gateway's {system_id}_{user_id})",
        "files the user uploaded (upload_files rows and the objects in Dify's storage)",
        "chatflow and workflow run records and their node executions (workflow_runs, workflow_node_executions), which hold the inputs and outputs",
        "message annotations, operators' logs and feedback views in Dify's console that were copied before the deletion",
        "anything Dify sent to external tracing or monitoring (Langfuse, LangSmith, Opik, ...) and to model providers",
        "Dify's database backups and logs",
    ]

    static let difyVersionNote =
        "Dify's Service API does not report its version; this list holds for Dify 1.x as documented in 2026"
}
