import Vapor

/// Addition: test-control routes under `<routes>/_fake` (no auth), for scripts driving a separate
/// fake-dify process. Not part of Dify.
///
/// - `POST /_fake/options` `{latency_ms?, token_delay_ms?, ping_interval_ms?, suggested_questions_enabled?, api_keys?, input_variables?,
///   image_upload_enabled?, opening_statement?, suggested_questions?, retriever_resources?, file_upload?,
///   speech_to_text_enabled?, text_to_speech_enabled?, answer_style?: "echo"|"demo", image_file_size_limit?: MB}`
///   merges into the current options (`file_upload: null` restores the default `image` object).
/// - `POST /_fake/fault` `{kind: "http_error"|"hang"|"malformed_json"|"non_json_error"|"stream_cut"|"stream_error"|null,
///   status?, code?, message?, after_chunks?}`.
/// - `POST /_fake/seed` `{user, conversations, turns_each}` → `{"conversation_ids": [...]}`.
/// - `GET /_fake/stats` → `{"chat_requests": N, "last_chat_traceparent": "00-…" | null}`.
/// - `GET /_fake/feedbacks` → `{"data": [{message_id, rating, content, user}, ...]}`, every feedback call that
///   succeeded, newest last (`rating: null` is a withdrawal).
/// - `POST /_fake/reset` forgets all data, feedback, the fault and the count, and restores the options the fake
///   started with.
public func registerFakeDifyControlRoutes(on routes: any RoutesBuilder, store: FakeDifyStore) {
    let fake = routes.grouped("_fake")
    func route(
        _ method: HTTPMethod, _ path: PathComponent, _ handler: @escaping @Sendable (Request) async throws -> Response
    ) {
        fake.on(method, path) { req in try await difyRespond { try await handler(req) } }
    }
    route(.POST, "options") { req in
        let body = try controlBody(req)
        var options = await store.options
        try options.merge(controlJSON: body)
        await store.setOptions(options)
        return difyJSONResponse(.object([("result", .string("success"))]))
    }
    route(.POST, "fault") { req in
        let body = try controlBody(req)
        let afterChunks = body["after_chunks"]?.intValue ?? 1
        let fault: FakeDifyFault?
        switch body["kind"]?.stringValue {
        case nil: fault = nil
        case "http_error":
            fault = .httpError(
                status: body["status"]?.intValue ?? 500,
                code: body["code"]?.stringValue ?? DifyError.internalServerError.code,
                message: body["message"]?.stringValue ?? DifyError.internalServerError.message)
        case "hang": fault = .hang
        case "malformed_json": fault = .malformedJSON
        case "non_json_error": fault = .nonJSONError(status: body["status"]?.intValue ?? 502)
        case "stream_cut": fault = .streamCut(afterChunks: afterChunks)
        case "stream_error": fault = .streamError(afterChunks: afterChunks)
        case let other?: throw DifyError.invalidParam("unknown fault kind '\(other)'", params: "kind")
        }
        await store.setFault(fault)
        return difyJSONResponse(.object([("result", .string("success"))]))
    }
    route(.POST, "seed") { req in
        let body = try controlBody(req)
        guard let user = body["user"]?.stringValue, !user.isEmpty else { throw DifyError.userRequired }
        let ids = await store.seed(
            user: user, conversations: body["conversations"]?.intValue ?? 1,
            turnsEach: body["turns_each"]?.intValue ?? 1)
        return difyJSONResponse(.object([("conversation_ids", .array(ids.map { .string($0) }))]))
    }
    route(.GET, "stats") { _ in
        difyJSONResponse(
            .object([
                ("chat_requests", .int(await store.chatRequestCount)),
                ("requests", .int(await store.requestCount)),
                (
                    "uploads",
                    .array(
                        await store.uploads.map { file in
                            .object([
                                ("id", .string(file.id)), ("user", .string(file.user)), ("name", .string(file.name)),
                                ("size", .int(file.size)), ("mime_type", .string(file.mimeType)),
                            ])
                        })
                ),
                ("last_chat_traceparent", (await store.lastChatTraceparent).map(FakeDifyJSON.string) ?? .null),
            ]))
    }
    route(.GET, "feedbacks") { _ in
        difyJSONResponse(.object([("data", .array(await store.feedbacks.map(\.json)))]))
    }
    route(.POST, "reset") { _ in
        await store.reset()
        return difyJSONResponse(.object([("result", .string("success"))]))
    }
}

/// Control bodies may be empty (`{}` assumed); errors come back as Dify-style JSON.
private func controlBody(_ req: Request) throws -> FakeDifyJSON {
    guard let buffer = req.body.data, buffer.readableBytes > 0 else { return .object([]) }
    guard let json = FakeDifyJSON.parse(Data(buffer: buffer)), case .object = json else {
        throw DifyError.emptyJSON
    }
    return json
}

extension FakeDifyJSON {
    var intValue: Int? {
        switch self {
        case .int(let i): i
        case .double(let d): Int(exactly: d.rounded())
        default: nil
        }
    }

    var doubleValue: Double? {
        switch self {
        case .int(let i): Double(i)
        case .double(let d): d
        default: nil
        }
    }
}
