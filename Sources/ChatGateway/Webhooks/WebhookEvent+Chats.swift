import Foundation

/// The events of chats: turns, conversations and feedback, built from what the store writes.
extension WebhookEvent {
    /// How a turn ended, as the store records it.
    struct TurnOutcome: Sendable {
        var status: StoredMessage.Status
        /// Dify's ids, once Dify named the turn.
        var ids: TurnIDs?
        /// The answer, or what arrived of it.
        var text: String
        var usage: DifyUsage? = nil
        /// Dify's `metadata` (its `retriever_resources` are the sources).
        var metadata: JSONValue? = nil
        var errorCode: String? = nil
        var errorMessage: String? = nil
    }

    /// `message.completed`, `.failed`, `.stopped` or `.interrupted`; nil for a turn still running.
    static func turnEnded(
        _ outcome: TurnOutcome, turnID: String, conversationID: String?, question: String, channel: String?,
        caller: CallerIdentity, at stamp: Date
    ) -> WebhookEvent? {
        let kind: Kind
        switch outcome.status {
        case .complete: kind = .messageCompleted
        case .failed, .refused: kind = .messageFailed
        case .stopped: kind = .messageStopped
        case .interrupted: kind = .messageInterrupted
        case .pending, .streaming: return nil
        }
        let difyID = outcome.ids?.messageID
        var data: [String: JSONValue] = [
            "system_id": .string(caller.systemID), "user_id": .string(caller.userID),
            "dify_user": .string(caller.difyUser), "conversation_id": .text(conversationID),
            "turn_id": .string(turnID), "message_id": .text(difyID.map { "\($0)_assistant" }),
            "question_id": .text(difyID.map { "\($0)_user" }), "dify_message_id": .text(difyID),
            "task_id": .text(outcome.ids?.taskID), "channel": .text(channel),
            "status": .string(outcome.status == .complete ? "completed" : outcome.status.rawValue),
            "created_at": .string(ISO8601.string(stamp)),
        ]
        var content: [String: JSONValue] = ["question": .string(question)]
        if kind == .messageCompleted {
            data["usage"] = usage(outcome.usage)
            let resources = outcome.metadata?.objectValue?["retriever_resources"]?.arrayValue ?? []
            data["sources"] = .array(resources.map { source(of: $0, withContent: false) })
            content["answer"] = .string(outcome.text)
            content["sources"] = .array(resources.map { source(of: $0, withContent: true) })
        } else {
            let code =
                outcome.errorCode
                ?? (kind == .messageStopped ? "stopped" : kind == .messageInterrupted ? "interrupted" : "failed")
            let message =
                outcome.errorMessage ?? (kind == .messageStopped ? "The answer was stopped at the user's request." : "")
            data["error"] = .object(["code": .string(code), "message": .string(message)])
            data["partial_length"] = .integer(outcome.text.count)
            content["partial_answer"] = .string(outcome.text)
        }
        // A turn ends once.
        return WebhookEvent(
            kind: kind, systemID: caller.systemID, userID: caller.userID, conversationID: conversationID, data: data,
            content: content, dedupeKey: "message|\(turnID)")
    }

    /// A turn started a conversation.
    static func conversationCreated(_ conversationID: String, channel: String?, caller: CallerIdentity) -> WebhookEvent
    {
        WebhookEvent(
            kind: .conversationCreated, systemID: caller.systemID, userID: caller.userID,
            conversationID: conversationID,
            data: [
                "system_id": .string(caller.systemID), "user_id": .string(caller.userID),
                "conversation_id": .string(conversationID), "channel": .text(channel),
            ],
            dedupeKey: "conversation.created|\(conversationID)")
    }

    static func conversationRenamed(_ conversationID: String, name: String?, caller: CallerIdentity) -> WebhookEvent {
        var event = conversationChanged(.conversationRenamed, conversationID, caller: caller)
        event.content = ["name": .text(name)]
        return event
    }

    static func conversationDeleted(_ conversationID: String, caller: CallerIdentity) -> WebhookEvent {
        conversationChanged(.conversationDeleted, conversationID, caller: caller)
    }

    private static func conversationChanged(
        _ kind: Kind, _ conversationID: String, caller: CallerIdentity
    ) -> WebhookEvent {
        WebhookEvent(
            kind: kind, systemID: caller.systemID, userID: caller.userID, conversationID: conversationID,
            data: [
                "system_id": .string(caller.systemID), "user_id": .string(caller.userID),
                "conversation_id": .string(conversationID),
            ])
    }

    /// A rating given (`feedback.created`), or changed or withdrawn (`feedback.updated`).
    static func feedback(
        messageID: String, conversationID: String?, rating: String?, previous: String?, reason: String?,
        caller: CallerIdentity
    ) -> WebhookEvent {
        WebhookEvent(
            kind: previous == nil ? .feedbackCreated : .feedbackUpdated, systemID: caller.systemID,
            userID: caller.userID, conversationID: conversationID,
            data: [
                "system_id": .string(caller.systemID), "user_id": .string(caller.userID),
                "conversation_id": .text(conversationID), "message_id": .string("\(messageID)_assistant"),
                "dify_message_id": .string(messageID), "rating": .text(rating), "previous_rating": .text(previous),
            ],
            content: ["content": .text(reason)])
    }

    private static func usage(_ usage: DifyUsage?) -> JSONValue {
        guard let usage else { return .null }
        return .object([
            "prompt_tokens": .integer(usage.promptTokens), "completion_tokens": .integer(usage.completionTokens),
            "total_tokens": .integer(usage.totalTokens), "total_price": .text(usage.totalPriceText),
            "currency": .text(usage.currency), "latency_ms": .integer(usage.latencyMS.map { Int($0) }),
        ])
    }

    /// A source's ids and score; with `withContent`, only its quoted text.
    private static func source(of resource: JSONValue, withContent: Bool) -> JSONValue {
        let fields = resource.objectValue ?? [:]
        if withContent { return .object(["content": fields["content"] ?? .null]) }
        var kept: [String: JSONValue] = [:]
        for key in ["position", "dataset_id", "dataset_name", "document_id", "document_name", "segment_id", "score"] {
            kept[key] = fields[key] ?? .null
        }
        return .object(kept)
    }
}

extension WebhookEvent {
    /// An endpoint disabled for failing, told to the others; its URL without a query (which may hold a token).
    static func endpointDisabled(_ endpoint: WebhookEndpointRow, reason: String, failingSince: Double) -> WebhookEvent {
        var url = URLComponents(string: endpoint.url)
        url?.query = nil
        return WebhookEvent(
            kind: .endpointDisabled, systemID: endpoint.systemID,
            data: [
                "endpoint_id": .string(endpoint.id), "url": .string(url?.string ?? endpoint.url),
                "system_id": .text(endpoint.systemID), "reason": .string(reason),
                "failing_since": .string(ISO8601.string(Date(timeIntervalSince1970: failingSince))),
            ])
    }
}

extension DifyError {
    /// A stable code for what went wrong, for webhook receivers.
    var webhookCode: String {
        switch self {
        case .notConfigured: "dify_not_configured"
        case .keyUnreadable: "dify_key_unreadable"
        case .upstream(_, let code, _): code ?? "dify_error"
        case .timeout: "dify_timeout"
        case .unreachable: "dify_unreachable"
        case .malformedResponse: "dify_malformed_response"
        case .addressRefused: "dify_address_refused"
        case .busy: "gateway_busy"
        case .circuitOpen: "dify_circuit_open"
        }
    }
}
