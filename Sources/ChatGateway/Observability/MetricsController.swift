import Vapor

/// `GET /metrics`: the Prometheus text exposition. Open unless `METRICS_KEY` is set; then it needs
/// `Authorization: Bearer <METRICS_KEY>`.
struct MetricsController: RouteCollection {
    let metrics: GatewayMetrics
    let key: APIKeyVerifier?
    let streams: ChatStreamRegistry
    /// Per known system, whether its Dify's circuit breaker is refusing calls.
    let openCircuits: @Sendable () async -> [String: Bool]

    func boot(routes: any RoutesBuilder) throws {
        routes.get("metrics", use: scrape)
    }

    @Sendable
    func scrape(_ req: Request) async throws -> Response {
        if let key, !key.isValid(req.headers.bearerAuthorization?.token ?? "") {
            throw AuthError.metricsKeyRequired
        }
        let text = metrics.exposition(
            streamsActive: streams.activeCount, openCircuits: await openCircuits(),
            process: ProcessMetrics.read())
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/plain; version=0.0.4; charset=utf-8")
        headers.cacheControl = .init(noStore: true)
        return Response(status: .ok, headers: headers, body: .init(buffer: ByteBuffer(bytes: text)))
    }
}
