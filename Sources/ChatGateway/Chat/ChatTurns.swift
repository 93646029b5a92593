import Logging

/// One chat turn through the gateway's limits, for `/v1/chat` and `/dify/v1/chat-messages` alike: admitted (rate
/// limits, streams per user, shutdown), then streamed or answered by `ChatService`, and counted when refused.
struct ChatTurns: Sendable {
    let admission: ChatAdmission
    let chats: ChatService
    let metrics: GatewayMetrics

    struct Turn: Sendable {
        var message: String
        var conversationID: String?
        var inputs: [String: JSONValue] = [:]
        /// Dify's other chat fields, passed on (`/dify/v1`).
        var extra: [String: JSONValue] = [:]
    }

    enum Outcome: Sendable {
        case stream(ChatStreamSession)
        case answer(DifyChatAnswer)
    }

    func run(
        _ turn: Turn, as caller: CallerIdentity, streaming: Bool, wire: ChatStreamSession.Wire = .gateway,
        logger: Logger
    ) async throws -> Outcome {
        do {
            try await admission.admit(caller)
            if streaming {
                return .stream(
                    try await admission.stream(for: caller) {
                        try await chats.stream(
                            turn.message, conversationID: turn.conversationID, inputs: turn.inputs, extra: turn.extra,
                            as: caller, wire: wire, logger: logger)
                    })
            }
            return .answer(
                try await chats.send(
                    turn.message, conversationID: turn.conversationID, inputs: turn.inputs, extra: turn.extra,
                    as: caller, logger: logger))
        } catch let error as LimitError {
            // Limits, budgets and shutdown: refused before Dify was asked.
            metrics.chat(system: caller.systemID, mode: streaming ? .stream : .blocking, outcome: .refused)
            throw error
        }
    }
}
