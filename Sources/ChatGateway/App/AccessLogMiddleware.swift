import Vapor

/// One structured line per request: method, path (never the query string, which may hold a chat token), status, duration.
struct AccessLogMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next.respond(to: request)
        request.logger.info("request", metadata: [
            "method": .string(request.method.rawValue),
            "path": .string(request.url.path),
            "status": .stringConvertible(response.status.code),
            "duration_ms": .stringConvertible((ContinuousClock.now - started).milliseconds),
        ])
        return response
    }
}
