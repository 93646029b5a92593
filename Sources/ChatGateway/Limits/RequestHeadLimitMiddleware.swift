import Vapor

/// Judges a request by its head alone, before any route, authentication or body reading: a header block larger
/// than `MAX_HEADER_BYTES` is 431, and a declared `Content-Length` above `MAX_REQUEST_BYTES` is 413 at once (also
/// under `Expect: 100-continue`), with the connection closed rather than the body awaited. Header size is counted
/// as sent: each `name: value` line with its line break.
///
/// NIO's HTTP parser has its own ceiling (80 KB of names and values): above it the connection is closed
/// without an answer before the request reaches Vapor, which is why `MAX_HEADER_BYTES` cannot exceed it.
/// Future-based, as `AccessLogMiddleware` says why.
struct RequestHeadLimitMiddleware: Middleware {
    let maxHeaderBytes: Int
    let maxBodyBytes: Int
    /// For the uploads `/dify/v1` streams to Dify (`MAX_UPLOAD_BYTES`), which count their own bytes too.
    var maxUploadBytes = 0

    static let uploadPaths: Set<String> = [
        "/dify/v1/files/upload", "/dify/v1/audio-to-text", "/v1/files/upload", "/v1/audio-to-text",
    ]
    /// OpenAI's chats carry images inline, as data URLs: held whole, up to `openAIChatLimit`.
    static let openAIChatPath = "/openai/v1/chat/completions"

    /// The body `/openai/v1/chat/completions` may have: `MAX_UPLOAD_BYTES`, at most 20 MiB, and never less than
    /// `MAX_REQUEST_BYTES`.
    static func openAIChatLimit(maxBodyBytes: Int, maxUploadBytes: Int) -> Int {
        max(maxBodyBytes, min(maxUploadBytes, 20 * 1024 * 1024))
    }

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        if Self.size(of: request.headers) > maxHeaderBytes {
            return refuse(request, LimitError.headersTooLarge(limit: maxHeaderBytes))
        }
        let isUpload = Self.uploadPaths.contains(request.url.path) && maxUploadBytes > maxBodyBytes
        var limit = isUpload ? maxUploadBytes : maxBodyBytes
        if request.url.path == Self.openAIChatPath {
            limit = Self.openAIChatLimit(maxBodyBytes: maxBodyBytes, maxUploadBytes: maxUploadBytes)
        }
        if let declared = request.headers.first(name: .contentLength).flatMap({ Int($0) }), declared > limit {
            return refuse(
                request,
                LimitError.bodyTooLarge(
                    limit: limit, variable: limit == maxBodyBytes ? "MAX_REQUEST_BYTES" : "MAX_UPLOAD_BYTES"))
        }
        return next.respond(to: request)
    }

    private func refuse(_ request: Request, _ error: LimitError) -> EventLoopFuture<Response> {
        request.eventLoop.makeCompletedFuture {
            let response = try APIErrorMiddleware.response(for: error, to: request)
            response.headers.replaceOrAdd(name: .connection, value: "close")
            return response
        }
    }

    static func size(of headers: HTTPHeaders) -> Int {
        headers.reduce(0) { $0 + $1.name.utf8.count + 2 + $1.value.utf8.count + 2 }
    }
}
