import Vapor

/// A Dify error answer: `{"code","message","status"}` (plus `params` for old field validators),
/// with the exact texts of dify-api.md section 2. Thrown inside handlers, turned into a response by `difyRespond`.
struct DifyError: Error, Sendable {
    let status: Int
    let code: String
    let message: String
    var params: String? = nil
    /// Extra response headers, e.g. werkzeug's `Allow` on a 405.
    var headers: [(String, String)] = []

    var json: FakeDifyJSON {
        var members: [(String, FakeDifyJSON)] = [("code", .string(code)), ("message", .string(message))]
        if let params { members.append(("params", .string(params))) }
        members.append(("status", .int(status)))
        return .object(members)
    }

    var response: Response {
        let response = difyJSONResponse(json, status: status)
        // Dify's external_api adds this to every 401 (flask-restx would otherwise send a Basic challenge).
        if status == 401 { response.headers.replaceOrAdd(name: .wwwAuthenticate, value: #"Bearer realm="api""#) }
        for (name, value) in headers { response.headers.replaceOrAdd(name: name, value: value) }
        return response
    }

    static func invalidParam(_ message: String, params: String? = nil) -> DifyError {
        DifyError(status: 400, code: "invalid_param", message: message, params: params)
    }

    static func notFound(_ message: String) -> DifyError {
        DifyError(status: 404, code: "not_found", message: message)
    }

    static func unauthorized(_ message: String) -> DifyError {
        DifyError(status: 401, code: "unauthorized", message: message)
    }

    static let userRequired = invalidParam("Arg user must be provided.")
    static let conversationNotExists = notFound("Conversation Not Exists.")
    static let lastConversationNotExists = notFound("Last Conversation Not Exists.")
    static let firstMessageNotExists = notFound("First Message Not Exists.")
    static let messageNotExists = notFound("Message Not Exists.")
    /// What werkzeug answers when no route matches, e.g. a path id that is not a UUID.
    static let urlNotFound = notFound(
        "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."
    )
    static let methodNotAllowed = DifyError(
        status: 405, code: "method_not_allowed", message: "The method is not allowed for the requested URL."
    )
    /// Real Dify fails in the database on a `user` over varchar(255) and surfaces werkzeug's generic 500.
    static let internalServerError = DifyError(
        status: 500, code: "internal_server_error",
        message:
            "The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application."
    )
    static let unsupportedMediaType = DifyError(
        status: 415, code: "unsupported_media_type",
        message: "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."
    )
    static let emptyJSON = DifyError(
        status: 400, code: "bad_request", message: "Invalid JSON payload received or JSON payload is empty."
    )
    static let suggestedDisabled = DifyError(
        status: 400, code: "bad_request", message: "Suggested Questions Is Disabled."
    )
}

/// HTTP JSON bodies are written the way Flask's `json.dumps` writes them (see `FakeDifyJSON.Style.python`).
func difyJSONResponse(_ json: FakeDifyJSON, status: Int = 200) -> Response {
    var headers = HTTPHeaders()
    headers.replaceOrAdd(name: .contentType, value: "application/json")
    return Response(
        status: HTTPResponseStatus(statusCode: status), headers: headers,
        body: .init(buffer: ByteBuffer(bytes: json.bytes(.python))))
}

/// Runs a handler and turns a thrown `DifyError` into Dify's error body, so the routes behave the same
/// whether mounted in FakeDifyServer's app or in another app with its own error middleware.
func difyRespond(_ body: () async throws -> Response) async throws -> Response {
    do {
        return try await body()
    } catch let error as DifyError {
        return error.response
    }
}
