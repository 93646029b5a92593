import Foundation
import NIOCore
import Vapor

/// Dify's own shapes, as `/dify/v1` answers in them (`../shared/dify/dify-api.md`): the error body, the stream's
/// framing and events, and the blocking answer.
enum DifyWire {
    /// Dify's keep-alive: an `event:` line with no `data:` line.
    static let ping = "event: ping\n\n"

    /// `{"code", "message", "status"}`: every error `/dify/v1` answers, and its streams' `error` events.
    struct ErrorBody: Sendable, Equatable, Content {
        var status: Int
        var code: String
        var message: String

        init(status: Int, code: String, message: String) {
            self.status = status
            self.code = code
            self.message = message
        }

        /// Dify's own errors as Dify sent them; the gateway's (limits, budgets, keys, scopes, validation) with
        /// the status and text `/v1` gives them, coded as Dify codes that status.
        init(describing error: any Error) {
            switch error {
            // Dify refusing the gateway's own key is the gateway's misconfiguration, not the client's bad key.
            case DifyError.upstream(let status, _, let message) where status == 401 || status == 403:
                self.init(describing: DifyError.unreachable("Dify refused the gateway's key: \(message)"))
            case DifyError.upstream(let status, let code, let message):
                self.init(status: status, code: code ?? Self.code(forStatus: status), message: message)
            case let error as DifyAPIError:
                self = Self.describe(error)
            case AuthError.missingCredentials, AuthError.apiKeyRequired:
                self.init(
                    status: 401, code: "unauthorized",
                    message: "Authorization header must be provided and start with 'Bearer'")
            case AuthError.invalidAPIKey, AuthError.invalidToken, AuthError.chatTokenOnlyKey:
                self.init(status: 401, code: "unauthorized", message: "Access token is invalid")
            case ChatError.conversationNotFound:
                self.init(status: 404, code: "not_found", message: "Conversation Not Exists.")
            case ChatError.messageNotFound:
                self.init(status: 404, code: "not_found", message: "Message Not Exists.")
            case ChatError.emptyMessage:
                self.init(status: 400, code: "invalid_param", message: "query is required")
            case ChatError.invalidConversationID:
                self.init(status: 400, code: "invalid_param", message: "conversation_id must be a valid UUID")
            // The router's own 404: no route for this method and path.
            case let abort as any AbortError where abort.status == .notFound:
                self = Self.describe(.urlNotFound)
            case is DecodingError:
                let (_, detail) = APIErrorMiddleware.describe(error)
                self.init(status: 400, code: "invalid_param", message: detail)
            default:
                let (status, detail) = APIErrorMiddleware.describe(error)
                // Dify has no 422: a request it cannot take is its 400 `invalid_param`.
                let code = status == .unprocessableEntity ? 400 : Int(status.code)
                self.init(status: code, code: Self.code(forStatus: code), message: detail)
            }
        }

        static func describe(_ error: DifyAPIError) -> ErrorBody {
            switch error {
            case .systemHeaderRequired(let scope):
                .init(
                    status: 400, code: "invalid_param",
                    message:
                        "This key serves \(scope.summary): name the system in the X-Gateway-System header")
            case .userRequired: .init(status: 400, code: "invalid_param", message: "Arg user must be provided.")
            case .urlNotFound:
                .init(
                    status: 404, code: "not_found",
                    message:
                        "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."
                )
            case .invalidParameter(let detail): .init(status: 400, code: "invalid_param", message: detail)
            case .noFileUploaded(audio: false):
                .init(status: 400, code: "no_file_uploaded", message: "Please upload your file.")
            case .noFileUploaded(audio: true):
                .init(status: 400, code: "no_audio_uploaded", message: "Please upload your audio.")
            case .invalidJSON:
                .init(
                    status: 400, code: "bad_request",
                    message: "Invalid JSON payload received or JSON payload is empty.")
            }
        }

        /// The code Dify (werkzeug) gives a status of its own.
        static func code(forStatus status: Int) -> String {
            switch status {
            case 400: "invalid_param"
            case 401: "unauthorized"
            case 403: "forbidden"
            case 404: "not_found"
            case 405: "method_not_allowed"
            case 413: "file_too_large"
            case 415: "unsupported_media_type"
            case 429: "too_many_requests"
            case 431: "request_header_fields_too_large"
            case 502: "bad_gateway"
            case 503: "service_unavailable"
            case 504: "gateway_timeout"
            default: status >= 500 ? "internal_server_error" : "bad_request"
            }
        }
    }

    /// A stream's `error` event: the envelope's ids, then the error (Dify sends no `task_id` on it).
    struct ErrorEvent: Sendable, Equatable {
        var conversationID: String?
        var messageID: String?
        var body: ErrorBody
    }

    /// Whether `/dify/v1` relays the event as it came; an `error` is relayed with the turn's ids, a malformed
    /// event not at all.
    static func relaysAsIs(_ event: DifyStreamEvent) -> Bool {
        switch event {
        case .error, .malformed: false
        default: true
        }
    }

    /// `data: <json>\n\n`, Dify's framing; `event: ping` for a ping.
    static func write(_ event: DifyStreamEvent, into buffer: inout ByteBuffer) {
        if case .ping = event {
            buffer.writeString(ping)
            return
        }
        guard let json = event.ids?.json ?? encoded(event) else { return }
        buffer.writeString("data: ")
        // A raw newline in JSON text can only be whitespace, and Dify's framing is one line per event.
        buffer.writeString(json.contains("\n") ? json.replacingOccurrences(of: "\n", with: "") : json)
        buffer.writeString("\n\n")
    }

    static func write(_ error: ErrorEvent, into buffer: inout ByteBuffer) {
        var object: [String: JSONValue] = [
            "event": .string("error"), "status": .number(Double(error.body.status)), "code": .string(error.body.code),
            "message": .string(error.body.message),
        ]
        if let id = error.conversationID { object["conversation_id"] = .string(id) }
        if let id = error.messageID { object["message_id"] = .string(id) }
        buffer.writeString("data: ")
        JSONValue.object(object).write(into: &buffer, sortedKeys: true)
        buffer.writeString("\n\n")
    }

    /// An event built in code, not read from Dify (the tests' stubs): its documented fields.
    private static func encoded(_ event: DifyStreamEvent) -> String? {
        var object: [String: JSONValue]
        switch event {
        case .answerDelta(_, let text): object = ["event": .string("message"), "answer": .string(text)]
        case .answerReplace(_, let text): object = ["event": .string("message_replace"), "answer": .string(text)]
        case .messageEnd(_, let metadata):
            object = ["event": .string("message_end"), "metadata": metadata ?? .object([:])]
        case .messageFile(_, let id, let type, let url, let belongsTo):
            object = [
                "event": .string("message_file"), "id": optional(id), "type": optional(type), "url": optional(url),
            ]
            object["belongs_to"] = optional(belongsTo)
        case .agentThought(_, let payload), .workflow(_, _, let payload), .other(_, let payload):
            return String(buffer: payload.jsonBuffer())
        case .error, .ping, .malformed:
            return nil
        }
        if let ids = event.ids {
            if let id = ids.taskID { object["task_id"] = .string(id) }
            if let id = ids.messageID {
                object["message_id"] = .string(id)
                if object["id"] == nil { object["id"] = .string(id) }
            }
            if let id = ids.conversationID { object["conversation_id"] = .string(id) }
            if let createdAt = ids.createdAt { object["created_at"] = .number(Double(createdAt)) }
        }
        return String(buffer: JSONValue.object(object).jsonBuffer())
    }

    private static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }

    /// The blocking answer, in Dify's fields.
    static func blockingBody(_ answer: DifyChatAnswer) -> JSONValue {
        var object: [String: JSONValue] = [
            "event": .string("message"), "id": .string(answer.messageID), "message_id": .string(answer.messageID),
            "conversation_id": .string(answer.conversationID), "mode": .string(answer.mode ?? "chat"),
            "answer": .string(answer.answer), "metadata": answer.metadata ?? .object([:]),
        ]
        object["task_id"] = answer.taskID.map(JSONValue.string) ?? .null
        object["created_at"] = answer.createdAt.map { .number(Double($0)) } ?? .null
        return .object(object)
    }

    /// Dify's answer with every string that is the gateway's `{system_id}_{user}` given back as the client's `user`.
    /// A stream event as the client may see it: chatflow events (`workflow_finished`'s `created_by`) and unknown
    /// ones name the end user, and get the client's own id back; the other events name none.
    static func withClientUser(_ event: DifyStreamEvent, difyUser: String, user: String) -> DifyStreamEvent {
        switch event {
        case .workflow(var ids, let name, let payload):
            if let raw = ids.json, let json = try? JSONDecoder().decode(JSONValue.self, from: Data(raw.utf8)) {
                ids.json = String(buffer: withClientUser(json, difyUser: difyUser, user: user).jsonBuffer())
            }
            return .workflow(ids, event: name, payload: withClientUser(payload, difyUser: difyUser, user: user))
        case .other(let name, let payload):
            return .other(event: name, payload: withClientUser(payload, difyUser: difyUser, user: user))
        default:
            return event
        }
    }

    static func withClientUser(_ json: JSONValue, difyUser: String, user: String) -> JSONValue {
        switch json {
        case .string(let text) where text == difyUser: .string(user)
        case .array(let items): .array(items.map { withClientUser($0, difyUser: difyUser, user: user) })
        case .object(let fields): .object(fields.mapValues { withClientUser($0, difyUser: difyUser, user: user) })
        default: json
        }
    }
}
