import Foundation

/// A `POST /openai/v1/chat/completions` body, read into what a Dify app can use: the new user message and its
/// images, the history before it, the system messages, and the parameters it ignores or refuses.
struct OpenAIChatRequest: Sendable {
    /// One message of the conversation as the client holds it: its role and its text.
    struct Message: Sendable, Equatable {
        var role: String
        var text: String
    }

    var model: String
    var stream: Bool
    var includeUsage: Bool
    /// The new user message: the last of `messages`.
    var message: String
    /// The `image_url` parts of the new message, as sent.
    var imageURLs: [String]
    /// The user and assistant messages before the new one, in order.
    var history: [Message]
    /// The system and developer messages, joined.
    var systemText: String?
    /// The OpenAI `user` field, when it is a string.
    var user: String?
    /// `metadata.conversation_id`.
    var conversationKey: String?
    /// Parameters present that a Dify app cannot honour, in the body's order: accepted and ignored.
    var ignored: [String]
    /// The body as sent, for an `Idempotency-Key`'s request hash.
    var body: [String: JSONValue]

    /// Parameters a Dify app has no use for: accepted, listed in `X-Gateway-Ignored-Parameters`.
    static let read: Set<String> = ["model", "messages", "stream", "stream_options", "user", "metadata"]

    init(_ body: [String: JSONValue]) throws(OpenAIError) {
        self.body = body
        guard case .string(let model)? = body["model"], !model.isEmpty else {
            throw .invalidRequest("you must provide a model parameter", param: "model")
        }
        self.model = model
        stream = try Self.bool(body["stream"], "stream")
        switch body["stream_options"] {
        case nil, .null?: includeUsage = false
        case .object(let options)?:
            includeUsage = try Self.bool(options["include_usage"], "stream_options.include_usage")
        default: throw .invalidRequest("stream_options must be an object", param: "stream_options")
        }
        user = body["user"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        switch body["metadata"] {
        case .object(let metadata)?: conversationKey = metadata["conversation_id"]?.stringValue
        case nil, .null?: conversationKey = nil
        default: throw .invalidRequest("metadata must be an object", param: "metadata")
        }
        try Self.refuseUnsupported(body)
        ignored = Self.ignoredParameters(body)

        guard case .array(let rawMessages)? = body["messages"], !rawMessages.isEmpty else {
            throw .invalidRequest("messages must be a non-empty array", param: "messages")
        }
        var conversation: [(role: String, text: String, images: [String])] = []
        var system: [String] = []
        for (index, raw) in rawMessages.enumerated() {
            let param = "messages[\(index)]"
            guard case .object(let fields) = raw, case .string(let role)? = fields["role"] else {
                throw .invalidRequest("each message must be an object with a role", param: param)
            }
            let (text, images) = try Self.content(
                fields["content"], param: "\(param).content", imagesAllowed: role == "user")
            switch role {
            case "system", "developer": system.append(text)
            // An image alone is a message too: Dify needs a query, and the history a text to match.
            case "user", "assistant":
                conversation.append((role, text.isEmpty && !images.isEmpty ? "[image]" : text, images))
            default:
                throw .unsupportedValue(
                    "messages with role \"\(role)\" are not supported: a Dify app takes no tool results", param: param)
            }
        }
        guard let last = conversation.last, last.role == "user" else {
            throw .invalidRequest("the last message must be a user message", param: "messages")
        }
        message = last.text
        imageURLs = last.images
        history = conversation.dropLast().map { Message(role: $0.role, text: $0.text) }
        systemText = system.isEmpty ? nil : system.joined(separator: "\n\n")
    }

    /// A message's text (its text parts joined) and the URLs of its image parts.
    private static func content(
        _ value: JSONValue?, param: String, imagesAllowed: Bool
    ) throws(OpenAIError) -> (String, [String]) {
        switch value {
        case nil, .null?: return ("", [])
        case .string(let text)?: return (text, [])
        case .array(let parts)?:
            var texts: [String] = []
            var images: [String] = []
            for (index, part) in parts.enumerated() {
                let partParam = "\(param)[\(index)]"
                guard case .object(let fields) = part, case .string(let type)? = fields["type"] else {
                    throw .invalidRequest("each content part must be an object with a type", param: partParam)
                }
                switch type {
                case "text":
                    guard case .string(let text)? = fields["text"] else {
                        throw .invalidRequest("a text part needs text", param: partParam)
                    }
                    texts.append(text)
                case "image_url" where imagesAllowed:
                    guard case .object(let image)? = fields["image_url"], case .string(let url)? = image["url"] else {
                        throw .invalidRequest("an image_url part needs image_url.url", param: partParam)
                    }
                    images.append(url)
                default:
                    throw .unsupportedValue(
                        "content parts of type \"\(type)\" are not supported here", param: partParam)
                }
            }
            return (texts.joined(separator: "\n"), images)
        default:
            throw .invalidRequest("content must be a string or an array of content parts", param: param)
        }
    }

    private static func bool(_ value: JSONValue?, _ param: String) throws(OpenAIError) -> Bool {
        switch value {
        case nil, .null?: return false
        case .bool(let flag)?: return flag
        default: throw .invalidRequest("\(param) must be a boolean", param: param)
        }
    }

    /// What a Dify app cannot do and a client would notice missing: several choices, log probabilities, tool
    /// calls, a JSON schema.
    private static func refuseUnsupported(_ body: [String: JSONValue]) throws(OpenAIError) {
        switch body["n"] {
        case nil, .null?, .number(1)?: break
        case .number?:
            throw .unsupportedParameter("n greater than 1 is not supported: a Dify app gives one answer", param: "n")
        default: throw .invalidRequest("n must be an integer", param: "n")
        }
        if case .bool(true)? = body["logprobs"] {
            throw .unsupportedParameter("logprobs are not supported: Dify does not return them", param: "logprobs")
        }
        if let top = body["top_logprobs"], top != .null {
            throw .unsupportedParameter(
                "top_logprobs is not supported: Dify does not return log probabilities", param: "top_logprobs")
        }
        for (tools, choice) in [("tools", "tool_choice"), ("functions", "function_call")] {
            guard case .array(let list)? = body[tools], !list.isEmpty else { continue }
            if case .string("none")? = body[choice] { continue }
            throw .unsupportedParameter(
                "\(tools) are not supported: a Dify app calls its own tools (send \(choice): \"none\" to ignore them)",
                param: tools)
        }
        if case .object(let format)? = body["response_format"], case .string("json_schema")? = format["type"] {
            throw .unsupportedParameter(
                "response_format json_schema is not supported: a Dify app's output is shaped by the app",
                param: "response_format")
        }
    }

    /// Every other parameter that was sent (not null), in a stable order; a name that is no plain identifier (it
    /// goes into a header) is listed as `other`.
    private static func ignoredParameters(_ body: [String: JSONValue]) -> [String] {
        let names = body.filter { !read.contains($0.key) && $0.value != .null }.keys.map { name in
            name.count <= 64 && name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) })
                ? name : "other"
        }
        return Set(names).sorted()
    }
}
