import Tracing
import Vapor

/// One structured line per request: method, path (never the query string, which may hold a chat token), status, duration,
/// and the request's `trace_id` when it is traced.
///
/// A future-based `Middleware`, not an `AsyncMiddleware`, like every middleware of the gateway: Vapor runs each
/// `AsyncMiddleware` as a Swift task of its own that awaits the rest of the chain, which costs every request a task
/// and two hand-offs between the event loop and the task pool.
struct AccessLogMiddleware: Middleware {
    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let started = ContinuousClock.now
        return next.respond(to: request).map { response in
            // The callback runs outside the request's task, so the log's metadata provider is shown its span here.
            ServiceContext.withValue(request.serviceContext) {
                request.logger.info(
                    "request",
                    metadata: [
                        "method": .string(request.method.rawValue),
                        "path": .string(request.url.path),
                        "status": .stringConvertible(response.status.code),
                        "duration_ms": .stringConvertible((ContinuousClock.now - started).milliseconds),
                    ])
            }
            return response
        }
    }
}
