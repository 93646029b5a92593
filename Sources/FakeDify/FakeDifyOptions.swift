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

extension FakeDifyOptions {
    /// Applies a `POST /_fake/options` body; absent keys keep their value.
    mutating func merge(controlJSON body: FakeDifyJSON) {
        func ms(_ key: String) -> Duration? { body[key].flatMap(\.intValue).map { .milliseconds($0) } }
        if let v = ms("latency_ms") { latency = v }
        if let v = ms("token_delay_ms") { tokenDelay = v }
        if let v = ms("ping_interval_ms") { pingInterval = v }
        if case .bool(let v)? = body["suggested_questions_enabled"] { suggestedQuestionsEnabled = v }
        if case .array(let keys)? = body["api_keys"] { apiKeys = Set(keys.compactMap(\.stringValue)) }
        if case .array(let names)? = body["input_variables"] { inputVariables = names.compactMap(\.stringValue) }
        if case .bool(let v)? = body["image_upload_enabled"] { imageUploadEnabled = v }
    }
}
