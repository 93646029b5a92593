import Vapor

/// A failure to inject into `POST /v1/chat-messages` (set with `FakeDifyStore.setFault`).
/// Faults apply after authentication, so a wrong key still gets its 401.
public enum FakeDifyFault: Sendable, Equatable {
    /// Answer every chat-messages call with this Dify error JSON.
    case httpError(status: Int, code: String, message: String)
    /// Never answer. Released (503) only when the fault is changed or the server shuts down.
    case hang
    /// 200 with a body that is not valid JSON (blocking) / a `data:` line with broken JSON (stream).
    case malformedJSON
    /// An HTML error page, as a proxy in front of Dify sends (e.g. 502).
    case nonJSONError(status: Int)
    /// Streaming: close the connection after N message chunks, no `message_end`.
    /// Blocking: 200 headers, then the connection drops mid-body.
    case streamCut(afterChunks: Int)
    /// Streaming: N chunks, then an `error` event, then the end of the stream.
    /// Blocking: the same error as an HTTP error. Either way the message is saved with status "error".
    case streamError(afterChunks: Int)
}

/// Texts used by the faults, public so tests can predict them.
public enum FakeDifyFaultTexts {
    /// The stream `error` event (and the saved message's `error`) for `.streamError`: a model invoke
    /// failure, which Dify reports as `completion_request_error`/400.
    public static let streamErrorCode = "completion_request_error"
    public static let streamErrorMessage = "Completion request failed."
    public static let streamErrorStatus = 400

    /// What a nginx-style proxy answers.
    public static func html(status: Int) -> String {
        let reason = HTTPResponseStatus(statusCode: status).reasonPhrase
        return "<html>\r\n<head><title>\(status) \(reason)</title></head>\r\n<body>\r\n"
            + "<center><h1>\(status) \(reason)</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    }

    /// A blocking body cut in the middle of a string.
    static let brokenBlockingBody =
        #"{"event": "message", "task_id": "00000000-0000-0000-0000-000000000000", "answer": "Ech"#
}

extension FakeDifyFault {
    /// The response for faults that answer before the request is even read; nil for the others.
    var earlyResponse: Response? {
        switch self {
        case .httpError(let status, let code, let message):
            return DifyError(status: status, code: code, message: message).response
        case .nonJSONError(let status):
            var headers = HTTPHeaders()
            headers.replaceOrAdd(name: .contentType, value: "text/html")
            return Response(
                status: HTTPResponseStatus(statusCode: status), headers: headers,
                body: .init(string: FakeDifyFaultTexts.html(status: status)))
        case .hang, .malformedJSON, .streamCut, .streamError:
            return nil
        }
    }

    static let hangReleased = DifyError(
        status: 503, code: "service_unavailable",
        message: "fake-dify: hang released (fault changed or server shutting down)"
    )
}

/// Thrown inside a stream body to make Vapor drop the connection without the final chunk.
struct FakeDifyStreamCut: Error {}
