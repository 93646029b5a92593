import Foundation

/// Where one system's Dify app lives. `baseURL` is the server root (`https://dify.example.com`), without `/v1`.
public struct DifyTarget: Sendable, Equatable {
    public let baseURL: URL
    public let apiKey: String
    /// The system whose app this is, for metrics and traces.
    public let systemID: String
    /// Set through the admin API, not the environment: its addresses are checked before each call.
    public let isAdminSet: Bool

    public init(baseURL: URL, apiKey: String, systemID: String = "", isAdminSet: Bool = false) {
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.systemID = systemID
        self.isAdminSet = isAdminSet
    }

    /// `{base}/v1/{path}`; a base URL that already ends in `/v1` (as Dify Cloud's is often written) is not doubled.
    /// Admin-set base URLs carry no query or fragment (`DifyAddressPolicy`), so `path` is always a path.
    func url(_ path: String) -> String {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        return base + "/v1/" + path
    }
}

/// `POST /chat-messages` as the gateway sends it.
public struct DifyChatRequest: Sendable, Equatable {
    public var query: String
    public var user: String
    public var conversationID: String?
    public var inputs: [String: JSONValue]
    /// Dify's other chat fields a `/dify/v1` client sent (`files`, `auto_generate_name`, `workflow_id`), passed on.
    public var extra: [String: JSONValue]

    public init(
        query: String, user: String, conversationID: String?, inputs: [String: JSONValue],
        extra: [String: JSONValue] = [:]
    ) {
        self.query = query
        self.user = user
        self.conversationID = conversationID
        self.inputs = inputs
        self.extra = extra
    }

    /// Dify's JSON body, `response_mode` `blocking` or `streaming`; the gateway's fields win over `extra`.
    func jsonBody(responseMode: String) -> [String: JSONValue] {
        var body = extra
        body.merge([
            "query": .string(query),
            "user": .string(user),
            "inputs": .object(inputs),
            "response_mode": .string(responseMode),
        ]) { _, gateways in gateways }
        if let conversationID { body["conversation_id"] = .string(conversationID) }
        return body
    }
}

/// The blocking answer of `POST /chat-messages`.
public struct DifyChatAnswer: Sendable, Equatable {
    public var messageID: String
    public var conversationID: String
    public var answer: String
    public var metadata: JSONValue?
    public var createdAt: Int?
    public var taskID: String?
    /// The app's mode (`chat`, `advanced-chat`, `agent-chat`).
    public var mode: String?

    /// Read from Dify's JSON text; nil unless it is an object with the three strings.
    init?(decoding bytes: some Collection<UInt8>) {
        guard let envelope = DifyEnvelope.decode(bytes), let messageID = envelope.messageID,
            let conversationID = envelope.conversationID, let answer = envelope.answer
        else { return nil }
        self.init(
            messageID: messageID, conversationID: conversationID, answer: answer, metadata: envelope.metadata,
            createdAt: envelope.createdAt, taskID: envelope.taskID, mode: envelope.mode)
    }

    public init(
        messageID: String, conversationID: String, answer: String, metadata: JSONValue?, createdAt: Int?,
        taskID: String? = nil, mode: String? = nil
    ) {
        self.messageID = messageID
        self.conversationID = conversationID
        self.answer = answer
        self.metadata = metadata
        self.createdAt = createdAt
        self.taskID = taskID
        self.mode = mode
    }
}

/// One page of a Dify list endpoint.
public struct DifyPage<Item: Decodable & Sendable>: Decodable, Sendable {
    public var hasMore: Bool
    public var data: [Item]

    enum CodingKeys: String, CodingKey { case hasMore = "has_more", data }

    public init(hasMore: Bool, data: [Item]) {
        self.hasMore = hasMore
        self.data = data
    }
}

public struct DifyConversation: Decodable, Sendable, Equatable {
    public var id: String
    public var name: String?
    public var createdAt: Int?
    public var updatedAt: Int?

    enum CodingKeys: String, CodingKey { case id, name, createdAt = "created_at", updatedAt = "updated_at" }

    public init(id: String, name: String?, createdAt: Int?, updatedAt: Int?) {
        self.id = id
        self.name = name
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// One turn: the user's `query` and the assistant's `answer`.
public struct DifyMessage: Decodable, Sendable, Equatable {
    public var id: String
    public var conversationID: String?
    public var query: String?
    public var answer: String?
    public var createdAt: Int?
    /// `normal`, or `error` for a generation that failed (its `answer` empty or partial).
    public var status: String?
    public var error: String?
    /// The sources the answer cited.
    public var retrieverResources: [JSONValue]?
    /// `{rating}` or null.
    public var feedback: JSONValue?
    /// The turn's files, the user's and the assistant's (`belongs_to`).
    public var messageFiles: [JSONValue]?

    enum CodingKeys: String, CodingKey {
        case id, conversationID = "conversation_id", query, answer, createdAt = "created_at", status, error
        case retrieverResources = "retriever_resources", feedback, messageFiles = "message_files"
    }

    public init(
        id: String, conversationID: String?, query: String?, answer: String?, createdAt: Int?, status: String? = nil,
        error: String? = nil, retrieverResources: [JSONValue]? = nil, feedback: JSONValue? = nil,
        messageFiles: [JSONValue]? = nil
    ) {
        self.retrieverResources = retrieverResources
        self.feedback = feedback
        self.messageFiles = messageFiles
        self.id = id
        self.conversationID = conversationID
        self.query = query
        self.answer = answer
        self.createdAt = createdAt
        self.status = status
        self.error = error
    }
}
