/// How the fake app behaves. Change it at run time with `FakeDifyStore.setOptions` or `POST /_fake/options`.
public struct FakeDifyOptions: Sendable {
    /// Accepted Bearer app keys.
    public var apiKeys: Set<String>
    /// Delay before a blocking answer, or before the first event of a stream.
    public var latency: Duration
    /// Delay between streamed `message` chunks.
    public var tokenDelay: Duration
    /// `event: ping` keep-alive while a stream has been silent this long (Dify: about 10 s).
    public var pingInterval: Duration
    /// Whether `/messages/{id}/suggested` works (off: 400 "Suggested Questions Is Disabled.").
    public var suggestedQuestionsEnabled: Bool
    /// Addition to the agreed API: the app's input variables (optional text inputs), listed in
    /// `/parameters` `user_input_form`. Like real Dify, `inputs` keys the app does not define are
    /// dropped, so with the default (none) every conversation's `inputs` is `{}`. Set e.g. `["language"]`
    /// to see forwarded inputs stored on the conversation.
    public var inputVariables: [String] = []
    /// Whether the app takes images (`/parameters` `file_upload.image.enabled`); a chat's `files` are kept on its
    /// message either way and listed as its `message_files`.
    public var imageUploadEnabled = false
    /// `/parameters` `opening_statement`, also every new conversation's `introduction`.
    public var openingStatement = FakeDifyAppInfo.openingStatement
    /// `/parameters` `suggested_questions`: the starter questions of a new conversation.
    public var suggestedQuestions: [String] = []
    /// The sources every answer cites (`metadata.retriever_resources` of a blocking answer and of `message_end`),
    /// kept on the message for `GET /messages`; any turns `/parameters` `retriever_resource.enabled` on.
    public var retrieverResources: [FakeDifyRetrieverResource] = []
    /// `/parameters` `file_upload` whole, e.g. Dify's newer `{enabled, allowed_file_types, ..., image}`; nil keeps
    /// the older `{image: {...}}` driven by `imageUploadEnabled`.
    public var fileUpload: FakeDifyJSON?
    /// `/parameters` `speech_to_text.enabled`; off, `/audio-to-text` answers Dify's 400.
    public var speechToTextEnabled = true
    /// `/parameters` `text_to_speech.enabled` (Dify's `/text-to-audio` does not look at it).
    public var textToSpeechEnabled = true
    /// What ordinary questions get (directives such as `/answer` work in either style).
    public var answerStyle = FakeDifyAnswerStyle.echo
    /// `/parameters` `system_parameters.image_file_size_limit` (MB), which `/files/upload` enforces on images.
    public var imageFileSizeLimitMB = 10
    /// Added to the clock the fake's `created_at` / `updated_at` come from: a test of old conversations makes them
    /// in the past.
    public var clockOffsetSeconds = 0

    public init(
        apiKeys: Set<String> = ["app-fake-key"],
        latency: Duration = .zero,
        tokenDelay: Duration = .zero,
        pingInterval: Duration = .seconds(10),
        suggestedQuestionsEnabled: Bool = true
    ) {
        self.apiKeys = apiKeys
        self.latency = latency
        self.tokenDelay = tokenDelay
        self.pingInterval = pingInterval
        self.suggestedQuestionsEnabled = suggestedQuestionsEnabled
    }
}

/// How the fake model answers a question that is not a directive.
public enum FakeDifyAnswerStyle: String, Sendable, CaseIterable {
    /// `"Echo: " + query`, so tests can predict every answer.
    case echo
    /// A rich Markdown answer (table, code, math) quoting the question, for the demo upstream.
    case demo
}

/// One `retriever_resources` item, with the fields Dify documents for chat apps.
public struct FakeDifyRetrieverResource: Sendable, Equatable {
    public var position: Int
    public var datasetID: String
    public var datasetName: String
    public var documentID: String
    public var documentName: String
    public var segmentID: String
    public var score: Double
    public var content: String

    public init(
        position: Int, datasetID: String, datasetName: String, documentID: String, documentName: String,
        segmentID: String, score: Double, content: String
    ) {
        self.position = position
        self.datasetID = datasetID
        self.datasetName = datasetName
        self.documentID = documentID
        self.documentName = documentName
        self.segmentID = segmentID
        self.score = score
        self.content = content
    }

    var json: FakeDifyJSON {
        .object([
            ("position", .int(position)), ("dataset_id", .string(datasetID)), ("dataset_name", .string(datasetName)),
            ("document_id", .string(documentID)), ("document_name", .string(documentName)),
            ("segment_id", .string(segmentID)), ("score", .double(score)), ("content", .string(content)),
        ])
    }

    /// From a control body's item; missing fields are empty (position: its place in the list).
    init(json: FakeDifyJSON, index: Int) {
        func text(_ key: String) -> String { json[key]?.stringValue ?? "" }
        self.init(
            position: json["position"]?.intValue ?? index + 1, datasetID: text("dataset_id"),
            datasetName: text("dataset_name"), documentID: text("document_id"), documentName: text("document_name"),
            segmentID: text("segment_id"), score: json["score"]?.doubleValue ?? 0, content: text("content"))
    }
}

extension FakeDifyOptions {
    /// Applies a `POST /_fake/options` body; absent keys keep their value.
    mutating func merge(controlJSON body: FakeDifyJSON) throws {
        func ms(_ key: String) -> Duration? { body[key].flatMap(\.intValue).map { .milliseconds($0) } }
        func strings(_ key: String) -> [String]? {
            if case .array(let items)? = body[key] { items.compactMap(\.stringValue) } else { nil }
        }
        func flag(_ key: String) -> Bool? {
            if case .bool(let v)? = body[key] { v } else { nil }
        }
        if let v = ms("latency_ms") { latency = v }
        if let v = ms("token_delay_ms") { tokenDelay = v }
        if let v = ms("ping_interval_ms") { pingInterval = v }
        if let v = body["clock_offset_s"]?.intValue { clockOffsetSeconds = v }
        if let v = flag("suggested_questions_enabled") { suggestedQuestionsEnabled = v }
        if let v = strings("api_keys") { apiKeys = Set(v) }
        if let v = strings("input_variables") { inputVariables = v }
        if let v = flag("image_upload_enabled") { imageUploadEnabled = v }
        if let v = body["opening_statement"]?.stringValue { openingStatement = v }
        if let v = strings("suggested_questions") { suggestedQuestions = v }
        if case .array(let items)? = body["retriever_resources"] {
            retrieverResources = items.enumerated().map { FakeDifyRetrieverResource(json: $1, index: $0) }
        }
        switch body["file_upload"] {
        case nil: break
        case .null?: fileUpload = nil
        case .object?: fileUpload = body["file_upload"]
        default: throw DifyError.invalidParam("file_upload must be an object or null", params: "file_upload")
        }
        if let v = flag("speech_to_text_enabled") { speechToTextEnabled = v }
        if let v = flag("text_to_speech_enabled") { textToSpeechEnabled = v }
        if let megabytes = body["image_file_size_limit"].flatMap(\.intValue) { imageFileSizeLimitMB = megabytes }
        if let name = body["answer_style"]?.stringValue {
            guard let style = FakeDifyAnswerStyle(rawValue: name) else {
                throw DifyError.invalidParam("unknown answer_style '\(name)'", params: "answer_style")
            }
            answerStyle = style
        }
    }
}
