import Tracing
import Vapor

/// For every request: its server span, named by method and route pattern and continuing the caller's
/// `traceparent`, and `chatgw_http_requests_total` / `chatgw_http_request_duration_seconds`.
///
/// A chat stream's span ends once its answer is stored, which is after its response head has gone out.
/// Attributes hold the method, route and status only: never the query string, which may carry a chat token.
struct RequestObservationMiddleware: Middleware {
    let metrics: GatewayMetrics

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let started = ContinuousClock.now
        let route = Self.routePattern(of: request)
        var parent = request.serviceContext
        InstrumentationSystem.instrument.extract(request.headers, into: &parent, using: HTTPHeadersPropagation())
        let span = InstrumentationSystem.tracer.startSpan(
            "\(request.method.rawValue) \(route)", context: parent, ofKind: .server)
        span.attributes["http.request.method"] = request.method.rawValue
        span.attributes["http.route"] = route
        request.serviceContext = span.context
        return next.respond(to: request).always { result in
            let status = (try? result.get().status) ?? .internalServerError
            metrics.httpRequest(
                route: route, method: request.method.rawValue, status: status.code,
                duration: ContinuousClock.now - started)
            span.attributes["http.response.status_code"] = Int(status.code)
            if status.code >= 500 { span.setStatus(.init(code: .error)) }
            if let stream = request.storage[RunningTurnKey.self] {
                stream.onFinish { span.end() }
            } else {
                span.end()
            }
        }
    }

    /// `/v1/conversations/:id/messages`; `unmatched` for a path no route serves, so scans add no label values.
    static func routePattern(of request: Request) -> String {
        guard let route = request.route else { return "unmatched" }
        return "/" + route.path.map(\.description).joined(separator: "/")
    }
}

/// The turn a chat request started streaming, so its span can end when the turn's answer is stored.
struct RunningTurnKey: StorageKey {
    typealias Value = RunningTurn
}

/// Reads and writes W3C trace context (`traceparent`, `tracestate`) in HTTP headers.
struct HTTPHeadersPropagation: Extractor, Injector {
    func extract(key name: String, from headers: HTTPHeaders) -> String? {
        headers.first(name: name)
    }

    func inject(_ value: String, forKey name: String, into headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: name, value: value)
    }
}
