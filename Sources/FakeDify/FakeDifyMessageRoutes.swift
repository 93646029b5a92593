import Vapor

/// Per-message routes, stop, and the app description routes.
extension FakeDifyRoutes {
    func feedback(_ req: Request) async throws -> Response {
        let id = try req.difyPathUUID("message_id")
        try await req.difyAuthenticate(store)
        let body = try req.difyJSONBody()
        let user = try req.difyUser(body["user"], required: true)
        var rating: String?
        switch body["rating"] {
        case nil, .null?: rating = nil
        case .string(let s)? where s == "like" || s == "dislike": rating = s
        default:
            throw DifyError.invalidParam(
                "1 validation error for MessageFeedbackPayload\nrating\n  Input should be 'like' or 'dislike' [type=literal_error]"
            )
        }
        var content: String?
        switch body["content"] {
        case nil, .null?: content = nil
        case .string(let s)?: content = s
        default:
            throw DifyError.invalidParam(
                "1 validation error for MessageFeedbackPayload\ncontent\n  Input should be a valid string [type=string_type]"
            )
        }
        try await store.feedback(messageID: id, user: user, rating: rating, content: content)
        return Self.success
    }

    func suggested(_ req: Request) async throws -> Response {
        let id = try req.difyPathUUID("message_id")
        try await req.difyAuthenticate(store)
        let user = try req.difyQueryUser(required: true)
        guard await store.options.suggestedQuestionsEnabled else { throw DifyError.suggestedDisabled }
        let questions = try await store.suggestedQuestions(messageID: id, user: user)
        return difyJSONResponse(
            .object([("result", .string("success")), ("data", .array(questions.map { .string($0) }))]))
    }

    /// Always 200: an unknown task, a finished one or another user's is silently ignored.
    func stop(_ req: Request) async throws -> Response {
        try await req.difyAuthenticate(store)
        let body = try req.difyJSONBody()
        let user = try req.difyUser(body["user"], required: true)
        if let taskID = req.parameters.get("task_id") {
            store.stop(taskID: taskID, user: user)
        }
        return Self.success
    }

    func appInfo(_ req: Request, _ body: (FakeDifyOptions) -> FakeDifyJSON) async throws -> Response {
        try await req.difyAuthenticate(store)
        return difyJSONResponse(body(await store.options))
    }

    static var success: Response {
        difyJSONResponse(.object([("result", .string("success"))]))
    }
}
