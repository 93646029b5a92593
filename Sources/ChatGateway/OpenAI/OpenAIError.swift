import Vapor

/// What `/openai/v1` refuses in its own terms; every other error is mapped to OpenAI's shape by `OpenAIErrorBody`.
enum OpenAIError: Error, Equatable {
    /// 404 `model_not_found`: no such model, or not one the key may use (the same answer, so scopes do not leak).
    case modelNotFound(String)
    /// 400 `invalid_request_error`, naming the field at fault.
    case invalidRequest(String, param: String?)
    /// 400 `unsupported_parameter`: a parameter a Dify app cannot honour and that cannot be ignored.
    case unsupportedParameter(String, param: String)
    /// 400 `unsupported_value`: a value (a message role, a content part) the gateway cannot pass on.
    case unsupportedValue(String, param: String)
    /// 401: `X-OpenWebUI-User-Jwt` did not verify with `OPENWEBUI_USER_JWT_SECRET`.
    case invalidUserToken(String)
}

/// OpenAI's error object, `{"error": {"message", "type", "param", "code"}}`, as its SDKs read it.
struct OpenAIErrorBody: Equatable {
    struct Detail: Equatable {
        var message: String
        var type: String
        var param: String?
        var code: String?
    }

    var error: Detail
    /// The status it goes with; not part of the body.
    var status: HTTPResponseStatus

    /// The body, as a response and as a stream's last data line write it. OpenAI sends `param` and `code` as null
    /// rather than leaving them out.
    var json: JSONValue {
        .object([
            "error": .object([
                "message": .string(error.message), "type": .string(error.type),
                "param": error.param.map(JSONValue.string) ?? .null, "code": error.code.map(JSONValue.string) ?? .null,
            ])
        ])
    }

    init(status: HTTPResponseStatus, message: String, type: String, param: String? = nil, code: String?) {
        error = Detail(message: message, type: type, param: param, code: code)
        self.status = status
    }

    /// Any error the gateway raises, in OpenAI's terms, with the status `describe` gives it (a 422 of the
    /// gateway's own validation is OpenAI's 400).
    init(describing error: any Error) {
        let (status, detail) = APIErrorMiddleware.describe(error)
        switch error {
        case let error as OpenAIError:
            switch error {
            case .modelNotFound(let model):
                self.init(
                    status: .notFound,
                    message: "The model `\(model)` does not exist or you do not have access to it.",
                    type: "invalid_request_error", code: "model_not_found")
            case .invalidRequest(let message, let param):
                self.init(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: nil)
            case .unsupportedParameter(let message, let param):
                self.init(
                    status: .badRequest, message: message, type: "invalid_request_error", param: param,
                    code: "unsupported_parameter")
            case .unsupportedValue(let message, let param):
                self.init(
                    status: .badRequest, message: message, type: "invalid_request_error", param: param,
                    code: "unsupported_value")
            case .invalidUserToken(let message):
                self.init(
                    status: .unauthorized, message: message, type: "invalid_request_error", code: "invalid_user_token")
            }
        case AuthError.invalidIdentity(let reason):
            self.init(status: .badRequest, message: reason, type: "invalid_request_error", param: "user", code: nil)
        case is AuthError where status == .unauthorized:
            self.init(status: .unauthorized, message: detail, type: "invalid_request_error", code: "invalid_api_key")
        case let error as LimitError:
            if case .budgetExhausted(_, _, let retryAfter) = error, retryAfter > 2 {
                self.init(status: status, message: detail, type: "insufficient_quota", code: "insufficient_quota")
            } else if status == .tooManyRequests {
                self.init(status: status, message: detail, type: "requests", code: "rate_limit_exceeded")
            } else if status.code < 500 {
                // Too large a body or header block: the request itself.
                self.init(status: status, message: detail, type: "invalid_request_error", code: nil)
            } else {
                self.init(status: status, message: detail, type: "api_error", code: "service_unavailable")
            }
        case let error as IdempotencyError:
            let code =
                switch error {
                case .malformedKey: "invalid_idempotency_key"
                case .differentRequest: "idempotency_key_reused"
                case .stillRunning: "idempotency_key_in_use"
                }
            self.init(status: status, message: detail, type: "invalid_request_error", param: nil, code: code)
        case let error as ChatError where status == .unprocessableEntity:
            self.init(
                status: .badRequest, message: detail, type: "invalid_request_error",
                param: Self.param(of: error), code: nil)
        case is DecodingError:
            self.init(status: .badRequest, message: detail, type: "invalid_request_error", code: nil)
        default:
            switch status.code {
            case 504: self.init(status: status, message: detail, type: "api_error", code: "upstream_timeout")
            case 502: self.init(status: status, message: detail, type: "api_error", code: "upstream_error")
            case 500..<600: self.init(status: status, message: detail, type: "api_error", code: "service_unavailable")
            case 404: self.init(status: status, message: detail, type: "invalid_request_error", code: "unknown_url")
            case 401: self.init(status: status, message: detail, type: "invalid_request_error", code: "invalid_api_key")
            case 403:
                self.init(status: status, message: detail, type: "invalid_request_error", code: "permission_denied")
            case 429: self.init(status: status, message: detail, type: "requests", code: "rate_limit_exceeded")
            default:
                // The gateway's own 413, 415, 422 and 400s are all a request OpenAI's clients should not repeat.
                self.init(
                    status: status.code == 422 ? .badRequest : status, message: detail, type: "invalid_request_error",
                    code: nil)
            }
        }
    }

    private static func param(of error: ChatError) -> String? {
        switch error {
        case .emptyMessage, .messageTooLong: "messages"
        case .invalidConversationID: "metadata.conversation_id"
        default: nil
        }
    }
}
