import Vapor

/// A multipart upload streamed to one of Dify's upload endpoints through a `MultipartUserRewriter`, for `/dify/v1`
/// and the chat page's `/v1` alike.
enum MultipartForwarding {
    /// Dify's answer; when the caller's bytes were refused or Dify failed, `UploadRefused` (`answering` says how).
    static func forward(
        _ req: Request, endpoint: String, to target: DifyTarget, dify: any DifyClient, limit: Int,
        limitVariable: String = "MAX_UPLOAD_BYTES",
        now: @escaping @Sendable () -> Date, fileLimit: MultipartUserRewriter.FileLimit? = nil,
        answering: @Sendable (any Error) -> any Error = { $0 }, difyUser: @escaping MultipartUserRewriter.DifyUser
    ) async throws -> DifyPassthroughResponse {
        guard
            let rewriter = try MultipartUserRewriter(
                contentType: req.headers.contentType, body: req.body, on: req.eventLoop, limit: limit,
                limitVariable: limitVariable, now: now,
                malformed: .noFileUploaded(audio: endpoint == "audio-to-text"), fileLimit: fileLimit,
                difyUser: difyUser)
        else { throw DifyAPIError.invalidParameter("the body must be multipart/form-data") }
        do {
            return try await dify.forward(
                DifyPassthroughRequest(
                    .POST, endpoint: endpoint, path: endpoint,
                    body: .stream(rewriter.stream, contentType: rewriter.contentType)),
                to: target)
        } catch {
            throw UploadRefused(reason: answering(error))
        }
    }
}

/// An upload refused while its body may still be arriving: answered at once, and its connection closed rather than
/// read to the end.
struct UploadRefused: Error {
    let reason: any Error
}
