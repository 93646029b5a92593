import Tracing

/// A `DifyClient` that measures every call: a client span (system, endpoint, status, conversation; never the
/// query, a key or a user id) and `chatgw_dify_requests_total` / `chatgw_dify_request_duration_seconds`.
/// The span is the current one while the call runs, so the request to Dify carries its `traceparent`.
struct InstrumentedDifyClient: DifyClient {
    let upstream: any DifyClient
    let metrics: GatewayMetrics

    private func measured<T: Sendable>(
        _ endpoint: String, _ target: DifyTarget, conversationID: String? = nil, _ call: () async throws -> T
    ) async throws -> T {
        let started = ContinuousClock.now
        return try await withSpan("dify \(endpoint)", ofKind: .client) { span in
            span.attributes["dify.system_id"] = target.systemID
            span.attributes["dify.endpoint"] = endpoint
            if let conversationID { span.attributes["dify.conversation_id"] = conversationID }
            do {
                let value = try await call()
                finish(span, endpoint, target, status: "200", started: started)
                return value
            } catch {
                let status = Self.status(of: error)
                finish(span, endpoint, target, status: status, started: started)
                span.setStatus(.init(code: .error, message: status))
                throw error
            }
        }
    }

    private func finish(
        _ span: any Span, _ endpoint: String, _ target: DifyTarget, status: String, started: ContinuousClock.Instant
    ) {
        if let code = Int(status) { span.attributes["http.response.status_code"] = code }
        metrics.difyRequest(
            system: target.systemID, endpoint: endpoint, status: status, duration: ContinuousClock.now - started)
    }

    /// Dify's HTTP status, or what stood in for one.
    static func status(of error: any Error) -> String {
        switch error as? DifyError {
        case .upstream(let status, _, _)?: String(status)
        case .timeout?: "timeout"
        case .circuitOpen?: "circuit_open"
        case .malformedResponse?: "malformed"
        case .notConfigured?, .keyUnreadable?, .addressRefused?: "not_configured"
        case .busy?: "busy"
        case .unreachable?, nil: "unreachable"
        }
    }

    /// Counts the stream's head; the relay's own span covers the stream to its end.
    func streamMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyEventStream {
        try await measured("chat-messages", target, conversationID: request.conversationID) {
            try await upstream.streamMessage(request, to: target)
        }
    }

    func forward(
        _ request: DifyPassthroughRequest, to target: DifyTarget
    ) async throws -> DifyPassthroughResponse {
        try await measured(request.endpoint, target, conversationID: request.conversationID) {
            try await upstream.forward(request, to: target)
        }
    }
}
