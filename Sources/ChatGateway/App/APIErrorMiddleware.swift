import Fluent
import Vapor

/// The one place errors become HTTP: `{"detail": "..."}` with an honest status, never a bare 500 for bad input;
/// under `/dify/v1`, Dify's `{"code", "message", "status"}` (`DifyWire.ErrorBody`); under `/openai/v1`, OpenAI's
/// `{"error": {...}}` (`OpenAIErrorBody`).
/// Future-based, as `AccessLogMiddleware` says why.
struct APIErrorMiddleware: Middleware {
    struct ErrorBody: Content { var detail: String }

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).flatMapErrorThrowing { error in try Self.response(for: error, to: request) }
    }

    /// The error answer, also for middleware that runs before this one (`RequestHeadLimitMiddleware`).
    static func response(for error: any Error, to request: Request) throws -> Response {
        if let refused = error as? UploadRefused {
            let response = try response(for: refused.reason, to: request)
            response.headers.replaceOrAdd(name: .connection, value: "close")
            return response
        }
        let (gatewayStatus, detail) = describe(error)
        let difyBody = DifyAPIController.serves(request) ? DifyWire.ErrorBody(describing: error) : nil
        let openAIBody = OpenAIController.serves(request) ? OpenAIErrorBody(describing: error) : nil
        let status = difyBody.map { HTTPResponseStatus(statusCode: $0.status) } ?? openAIBody?.status ?? gatewayStatus
        // A limit's refusal (shutting down, the gateway busy) is the plan working, not a failure.
        if status.code >= 500, !(error is LimitError) {
            request.logger.error(
                "request failed",
                metadata: ["status": .stringConvertible(status.code), "error": .string(logText(error))])
        }
        let response = Response(status: status)
        if let difyBody {
            try response.content.encode(difyBody)
            if difyBody.status == 401 {
                response.headers.replaceOrAdd(name: .wwwAuthenticate, value: #"Bearer realm="api""#)
            }
        } else if let openAIBody {
            response.headers.contentType = .json
            response.body = .init(buffer: openAIBody.json.jsonBuffer())
            if status == .unauthorized { response.headers.replaceOrAdd(name: .wwwAuthenticate, value: "Bearer") }
            // A spent budget stays spent until it resets: OpenAI's SDKs retry a 429 unless told not to.
            if openAIBody.error.code == "insufficient_quota" {
                response.headers.replaceOrAdd(name: "x-should-retry", value: "false")
            }
        } else {
            try response.content.encode(ErrorBody(detail: detail))
            if status == .unauthorized { response.headers.replaceOrAdd(name: .wwwAuthenticate, value: "Bearer") }
        }
        if case .budgetExhausted(_, let resetsAt, _)? = error as? LimitError {
            response.headers.replaceOrAdd(name: "X-Budget-Resets", value: ISO8601.wholeSeconds(resetsAt))
        }
        if let seconds = (error as? LimitError)?.retryAfter ?? (error as? DifyError)?.retryAfter
            ?? (error as? IdempotencyError)?.retryAfter
        {
            response.headers.replaceOrAdd(name: .retryAfter, value: String(seconds))
        }
        return response
    }

    static func describe(_ error: any Error) -> (HTTPResponseStatus, String) {
        switch error {
        case let error as AuthError: describe(error)
        case let error as ChatError: describe(error)
        case let error as DifyError: describe(error)
        case let error as LimitError: describe(error)
        case let error as IdempotencyError: describe(error)
        case let error as AdminError: describe(error)
        case let error as MediaError: (HTTPResponseStatus(statusCode: error.status), error.detail)
        case let error as WebhookError: (HTTPResponseStatus(statusCode: error.status), error.detail)
        case let error as LifecycleError: (HTTPResponseStatus(statusCode: error.status), error.detail)
        // An upload's form the chat page's routes read as `/dify/v1` does.
        case let error as DifyAPIError: describe(DifyWire.ErrorBody.describe(error))
        case let error as DecodingError: (.unprocessableEntity, "Invalid request: \(decodingDetail(error))")
        case let error as any AbortError: (error.status, error.reason)
        case is any DatabaseError: (.serviceUnavailable, "The database is unavailable. Please try again.")
        default: (.internalServerError, "Internal server error")
        }
    }

    static func describe(_ error: AuthError) -> (HTTPResponseStatus, String) {
        switch error {
        case .missingCredentials: (.unauthorized, "API key or Bearer token required")
        case .invalidAPIKey: (.unauthorized, "Invalid API key")
        case .apiKeyRequired: (.unauthorized, "X-API-Key required")
        case .operatorsOnly:
            (.forbidden, "A chat token cannot read this: use an API key, an admin key or the history page")
        case .metricsKeyRequired: (.unauthorized, "Authorization: Bearer <METRICS_KEY> required")
        case .invalidToken(let reason): (.unauthorized, reason)
        case .identityRequiredWithAPIKey:
            (.badRequest, "system_id and user_id required in body or query when using API key")
        case .identityMismatch: (.forbidden, "system_id/user_id must match token")
        case .systemNotAllowed: (.forbidden, "system_id not allowed")
        case .originNotAllowed: (.forbidden, "Origin not allowed")
        case .invalidIdentity(let reason): (.unprocessableEntity, reason)
        case .outsideKeyScope(let scope):
            (.forbidden, "This API key is limited to system_id \(scope.summary): it may not act for other systems")
        case .allSystemsKeyRequired(let scope):
            (
                .forbidden,
                "This API key is limited to system_id \(scope.summary): the history sync and the history page need a key for all systems"
            )
        case .chatTokenOnlyKey: (.forbidden, "This key may only request chat tokens")
        case .anonymousVisitorsOnly:
            (.forbidden, "A browser key may only request chat tokens for anonymous visitors (user_id=anonymous)")
        }
    }

    static func describe(_ body: DifyWire.ErrorBody) -> (HTTPResponseStatus, String) {
        (HTTPResponseStatus(statusCode: body.status), body.message)
    }

    static func describe(_ error: ChatError) -> (HTTPResponseStatus, String) {
        switch error {
        case .emptyMessage: (.unprocessableEntity, "message must not be empty")
        case .messageWithRegenerate:
            (.unprocessableEntity, "regenerate asks the answer's own question again: send it without message")
        case .messageRequired:
            (.unprocessableEntity, "message is required (or regenerate, to ask an answer's question again)")
        case .messageTooLong(let length, let limit):
            (.unprocessableEntity, "message is too long: \(length) characters, the limit is \(limit)")
        case .invalidConversationID:
            (.unprocessableEntity, "conversation_id must be a conversation id (UUID) returned by this API")
        case .inputsTooDeep(let limit): (.unprocessableEntity, "inputs is nested too deeply (at most \(limit) levels)")
        case .conversationNotFound: (.notFound, "Conversation not found")
        case .messageNotFound: (.notFound, "Message not found")
        case .taskNotFound: (.notFound, "No streaming answer with this task_id for this user")
        case .turnNotFound: (.notFound, "No turn with this id for this user")
        case .nameRequired: (.unprocessableEntity, "name is required unless auto_generate is true")
        case .nameTooLong(let limit): (.unprocessableEntity, "name is too long (at most \(limit) characters)")
        case .invalidRating: (.unprocessableEntity, "rating must be \"like\", \"dislike\" or null")
        case .feedbackTooLong(let limit): (.unprocessableEntity, "content is too long (at most \(limit) characters)")
        }
    }

    static func describe(_ error: DifyError) -> (HTTPResponseStatus, String) {
        switch error {
        case .notConfigured(let systemID):
            (.serviceUnavailable, "Chat service is not configured for system_id \"\(systemID)\"")
        case .keyUnreadable(let systemID):
            (
                .serviceUnavailable,
                "Chat service for system_id \"\(systemID)\" is unavailable: its Dify key cannot be read"
            )
        case .upstream(404, _, let message):
            (.notFound, message.contains("Message") ? "Message not found" : "Conversation not found")
        // Dify's invalid_param means the request itself was wrong (a missing app input, a bad rating): the caller's to fix.
        case .upstream(400, "invalid_param", let message):
            (.unprocessableEntity, "Dify rejected the request: \(message)")
        case .timeout: (.gatewayTimeout, "Chat service timed out. Please try again.")
        case .circuitOpen: (.serviceUnavailable, error.summary)
        case .addressRefused: (.serviceUnavailable, "Chat service is not available: its Dify URL is not allowed")
        case .busy: (.serviceUnavailable, "Chat service is busy: too many answers at once. Please try again shortly.")
        case .upstream, .unreachable, .malformedResponse:
            (.badGateway, "Chat service temporarily unavailable. Please try again.")
        }
    }

    static func describe(_ error: AdminError) -> (HTTPResponseStatus, String) {
        switch error {
        case .disabled: (.forbidden, "The admin API is disabled: set CHAT_GATEWAY_ADMIN_KEY")
        case .adminKeyRequired: (.unauthorized, "X-Admin-Key required")
        case .invalidAdminKey: (.unauthorized, "Invalid admin key")
        case .notAnAdminCredential:
            (.forbidden, "Admin routes need an admin key (X-Admin-Key), not a client key or token")
        case .systemNotFound: (.notFound, "System not found")
        case .keyNotFound: (.notFound, "Key not found")
        case .systemExists: (.conflict, "A system with this system_id exists already")
        case .definedByEnvironment(let systemID):
            (
                .conflict,
                "System \"\(systemID)\" is configured by environment variables (DIFY_*): change it there, not through the admin API"
            )
        case .encryptionKeyMissing:
            (
                .conflict,
                "Storing a Dify key needs CHAT_GATEWAY_ENCRYPTION_KEY (generate one with `chat-gateway gen-env`)"
            )
        case .invalid(let detail): (.unprocessableEntity, detail)
        case .difyKeyRequired:
            (
                .conflict,
                "A system with its own dify_base_url needs its own dify_api_key: a changed URL drops the stored key, and DIFY_API_KEY is never sent to it"
            )
        }
    }

    static func describe(_ error: IdempotencyError) -> (HTTPResponseStatus, String) {
        switch error {
        case .malformedKey: (.badRequest, "Idempotency-Key must be 1 to 255 printable ASCII characters")
        case .differentRequest:
            (.unprocessableEntity, "This Idempotency-Key was used for a different request: send a new key")
        case .stillRunning(let seconds):
            (.conflict, "The first request with this Idempotency-Key is still being answered. Retry in \(seconds) s.")
        }
    }

    static func describe(_ error: LimitError) -> (HTTPResponseStatus, String) {
        switch error {
        case .rateLimited(let scope, let seconds):
            (.tooManyRequests, "Too many requests for this \(scope.rawValue). Retry in \(seconds) s.")
        case .tooManyStreams(let limit):
            (.tooManyRequests, "Too many streaming answers at once: at most \(limit) per user. Wait for one to finish.")
        case .headersTooLarge(let limit):
            (.requestHeaderFieldsTooLarge, "Request headers too large: at most \(limit) bytes")
        case .bodyTooLarge(let limit, let variable):
            (.payloadTooLarge, "Request body too large: at most \(limit) bytes (\(variable))")
        case .shuttingDown: (.serviceUnavailable, ShutdownState.refusalDetail)
        case .budgetExhausted(let detail, _, _): (.tooManyRequests, detail)
        case .gatewayBusy(let limit, let variable):
            (
                .serviceUnavailable,
                "The gateway is busy: \(limit) at once is its limit (\(variable)). Please try again shortly."
            )
        case .tooManyAtOnce(let what, let limit):
            (.tooManyRequests, "Too many \(what) at once: at most \(limit) per key. Wait for one to finish.")
        case .uploadTooSlow(let rate):
            (.requestTimeout, "The upload arrived too slowly: at least \(rate) bytes per second are needed")
        }
    }

    static func decodingDetail(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map(\.stringValue).joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, _): return "field \"\(key.stringValue)\" is required"
        case .typeMismatch(let type, let context): return "field \"\(path(context))\" must be \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "field \"\(path(context))\" must be \(typeName(type)), not null"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "body is not valid JSON" : "field \"\(path(context))\" is invalid"
        @unknown default: return "malformed body"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: String(describing: type).hasPrefix("Dictionary") ? "an object" : "\(type)"
        }
    }

    /// Errors are logged by type and description only; descriptions here never carry keys or tokens.
    private static func logText(_ error: any Error) -> String {
        if let dify = error as? DifyError { return dify.summary }
        return String(reflecting: type(of: error))
    }
}
