import Vapor

/// A multipart upload streamed to one of Dify's upload endpoints through a `MultipartUserRewriter`, for `/dify/v1`
/// and the chat page's `/v1` alike.
enum MultipartForwarding {
    enum Outcome {
        case forwarded(DifyPassthroughResponse)
        /// The error response to send at once.
        case refused(Response)
    }

    /// Dify's answer, or the error response when the caller's bytes were refused or Dify failed: the rest of the
    /// body may be unread, so that response closes the connection rather than wait for it.
    static func forward(
        _ req: Request, endpoint: String, to target: DifyTarget, dify: any DifyClient, limit: Int,
        now: @escaping @Sendable () -> Date, fileLimit: MultipartUserRewriter.FileLimit? = nil,
        answering: @Sendable (any Error) -> any Error = { $0 }, difyUser: @escaping MultipartUserRewriter.DifyUser
    ) async throws -> Outcome {
        guard
            let rewriter = try MultipartUserRewriter(
                contentType: req.headers.contentType, body: req.body, on: req.eventLoop, limit: limit, now: now,
                malformed: .noFileUploaded(audio: endpoint == "audio-to-text"), fileLimit: fileLimit,
                difyUser: difyUser)
        else { throw DifyAPIError.invalidParameter("the body must be multipart/form-data") }
        do {
            return .forwarded(
                try await dify.forward(
                    DifyPassthroughRequest(
                        .POST, endpoint: endpoint, path: endpoint,
                        body: .stream(rewriter.stream, contentType: rewriter.contentType)),
                    to: target))
        } catch {
            let response = try APIErrorMiddleware.response(for: answering(error), to: req)
            response.headers.replaceOrAdd(name: .connection, value: "close")
            return .refused(response)
        }
    }
}
