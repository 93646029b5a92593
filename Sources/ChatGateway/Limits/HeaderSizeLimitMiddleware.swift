import Vapor

/// Refuses a request whose header block is larger than `MAX_HEADER_BYTES` with 431, before any route,
/// authentication or body reading. Counted as sent: each `name: value` line with its line break.
///
/// NIO's HTTP parser has its own ceiling (80 KB of names and values): above it the connection is closed
/// without an answer before the request reaches Vapor, which is why `MAX_HEADER_BYTES` cannot exceed it.
/// Future-based, as `AccessLogMiddleware` says why.
struct HeaderSizeLimitMiddleware: Middleware {
    let maxBytes: Int

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard Self.size(of: request.headers) <= maxBytes else {
            return request.eventLoop.makeCompletedFuture {
                try APIErrorMiddleware.response(for: LimitError.headersTooLarge(limit: maxBytes), to: request)
            }
        }
        return next.respond(to: request)
    }

    static func size(of headers: HTTPHeaders) -> Int {
        headers.reduce(0) { $0 + $1.name.utf8.count + 2 + $1.value.utf8.count + 2 }
    }
}
