import Foundation

/// The tables of webhooks.
enum WebhookTables {
    static let endpoints = "gateway_webhook_endpoints"
    static let events = "gateway_webhook_events"
    static let deliveries = "gateway_webhook_deliveries"
    static let attempts = "gateway_webhook_attempts"
}

/// One thing that happened, as the outbox keeps it until every endpoint that wants it has it.
struct WebhookEvent: Sendable, Equatable {
    enum Kind: String, Sendable, CaseIterable, Codable, Equatable {
        case messageCompleted = "message.completed"
        case messageFailed = "message.failed"
        case messageStopped = "message.stopped"
        case messageInterrupted = "message.interrupted"
        case feedbackCreated = "feedback.created"
        case feedbackUpdated = "feedback.updated"
        case conversationCreated = "conversation.created"
        case conversationRenamed = "conversation.renamed"
        case conversationDeleted = "conversation.deleted"
        case budgetExceeded = "budget.exceeded"
        case usageThresholdReached = "usage.threshold_reached"
        case webhookTest = "webhook.test"
        case endpointDisabled = "webhook.endpoint.disabled"
        case userErased = "user.erased"

        /// Events numbered in their conversation's count (`sequence`), which a turn without one leaves `null`.
        var carriesSequence: Bool { rawValue.hasPrefix("message.") || rawValue.hasPrefix("feedback.") }
    }

    var kind: Kind
    var systemID: String?
    var userID: String?
    /// Its events are numbered (`sequence`) in the conversation's own count.
    var conversationID: String?
    /// What every endpoint gets.
    var data: [String: JSONValue]
    /// What only endpoints with `include_content` get, added to `data`: the question, the answer, quoted sources.
    var content: [String: JSONValue]? = nil
    /// An event that happens once (a budget's first refusal in a period): a second one with the key is not kept.
    var dedupeKey: String? = nil
    /// Only for this endpoint (`webhook.test`), whatever it subscribes to.
    var endpointID: String? = nil

    /// `msg_` and a time-ordered UUID's 32 hex digits: the `webhook-id` of every attempt to send it.
    static func newID(at date: Date) -> String { UUID.prefixedID("msg_", at: date) }

    /// The body an endpoint gets: `{"type", "timestamp", "data"}`, the same bytes on every attempt.
    static func body(
        kind: String, occurredAt: Date, data: [String: JSONValue], content: [String: JSONValue]?, includeContent: Bool
    ) -> String {
        var fields = JSONValue.object(data)
        if includeContent, let content { fields = fields.merged(with: .object(content)) }
        return JSONValue.object([
            "type": .string(kind), "timestamp": .string(ISO8601.string(occurredAt)), "data": fields,
        ]).jsonText
    }
}

extension JSONValue {
    /// `other`'s members added to this object's, objects merged member by member and lists of the same length item
    /// by item (a source's quoted text joins its ids); anything else is `other`'s.
    func merged(with other: JSONValue) -> JSONValue {
        switch (self, other) {
        case (.object(var mine), .object(let theirs)):
            for (key, value) in theirs { mine[key] = mine[key].map { $0.merged(with: value) } ?? value }
            return .object(mine)
        case (.array(let mine), .array(let theirs)) where mine.count == theirs.count:
            return .array(zip(mine, theirs).map { $0.merged(with: $1) })
        default:
            return other
        }
    }
}

extension UUID {
    /// `prefix` and a time-ordered UUID's 32 hex digits (`msg_…`, `ep_…`).
    static func prefixedID(_ prefix: String, at date: Date) -> String {
        prefix + newRowID(now: date).uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }
}

extension JSONValue {
    /// `.string`, or `.null` for nil.
    static func text(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    /// `.number`, or `.null` for nil.
    static func integer(_ value: Int?) -> JSONValue { value.map { .number(Double($0)) } ?? .null }
}
