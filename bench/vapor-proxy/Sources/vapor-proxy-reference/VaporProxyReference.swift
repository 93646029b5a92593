import AsyncHTTPClient
import Vapor

// vapor-proxy-reference serve --hostname H --port P   (UPSTREAM_URL=http://127.0.0.1:5001, PROXY_STYLE=async|futures|relay)
//
// A benchmark reference, not part of the gateway: the bare floor of the stack the gateway is built on. It proxies
// `POST /v1/chat-messages` to UPSTREAM_URL the way the gateway's blocking chat calls Dify (Vapor 4's async route
// handler, the body collected, AsyncHTTPClient's async API on the shared client, the answer collected and returned),
// and does nothing else: no middleware, no authentication, no validation, no database. `bench/chat-throughput.sh`
// runs it beside nginx, so the gateway's figures split into what Vapor and AsyncHTTPClient cost on this machine
// and what the gateway's own work adds. PROXY_STYLE=futures does the same with no Swift task (a future-returning
// route, AsyncHTTPClient's future API); PROXY_STYLE=relay passes the upstream's body on as it arrives, on the
// client's event loop, the way the gateway relays a stream (`bench/stream-concurrency.sh`).

@main
enum VaporProxyReference {
    static func main() async throws {
        var env = try Environment.detect()
        try LoggingSystem.bootstrap(from: &env)
        let app = try await Application.make(env)
        guard let upstream = Environment.get("UPSTREAM_URL") else {
            app.logger.critical("UPSTREAM_URL is required (for example http://127.0.0.1:5001)")
            try await app.asyncShutdown()
            exit(2)
        }
        app.middleware = Middlewares()
        app.http.client.configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1000)
        app.http.client.configuration.timeout.connect = .seconds(3)
        let client = app.http.client.shared
        app.get("health") { _ in "ok" }
        let target = upstream + "/v1/chat-messages"
        switch Environment.get("PROXY_STYLE") {
        case "futures":
            app.on(.POST, "v1", "chat-messages", body: .collect(maxSize: "1mb")) { req -> EventLoopFuture<Response> in
                proxyWithFutures(req, to: target, with: client)
            }
        case "relay":
            app.on(.POST, "v1", "chat-messages", body: .collect(maxSize: "1mb")) { req throws -> Response in
                try relay(req, to: target, with: client)
            }
        default:
            app.on(.POST, "v1", "chat-messages", body: .collect(maxSize: "1mb")) { req async throws -> Response in
                try await proxy(req, to: target, with: client)
            }
        }
        do {
            try await app.execute()
        } catch {
            app.logger.report(error: error)
        }
        try await app.asyncShutdown()
    }

    static func proxy(_ req: Request, to target: String, with client: HTTPClient) async throws -> Response {
        var request = HTTPClientRequest(url: target)
        request.method = .POST
        request.headers = upstreamHeaders(for: req)
        request.body = .bytes(req.body.data ?? ByteBuffer())
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        return Response(status: response.status, headers: ["Content-Type": "application/json"], body: .init(buffer: body))
    }

    /// The upstream's body passed on as it arrives (a 200 with chunked encoding, whatever the upstream says: a floor,
    /// not a proxy for real use), with AsyncHTTPClient waiting for each write to the client before reading on.
    static func relay(_ req: Request, to target: String, with client: HTTPClient) throws -> Response {
        let request = try upstreamRequest(for: req, to: target)
        let eventLoop = req.eventLoop
        return Response(status: .ok, headers: ["Content-Type": "text/event-stream", "Cache-Control": "no-cache"], body: .init(stream: { writer in
            _ = client.execute(request: request, delegate: BodyRelay(writer: writer), eventLoop: .delegate(on: eventLoop))
        }))
    }

    /// The request to the upstream for the future-based styles.
    static func upstreamRequest(for req: Request, to target: String) throws -> HTTPClient.Request {
        try HTTPClient.Request(url: target, method: .POST, headers: upstreamHeaders(for: req), body: .byteBuffer(req.body.data ?? ByteBuffer()))
    }

    static func upstreamHeaders(for req: Request) -> HTTPHeaders {
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        if let authorization = req.headers.first(name: .authorization) { headers.add(name: "Authorization", value: authorization) }
        return headers
    }

    /// The same with no Swift task at all: a future-returning route and AsyncHTTPClient's future API on the request's loop.
    static func proxyWithFutures(_ req: Request, to target: String, with client: HTTPClient) -> EventLoopFuture<Response> {
        req.eventLoop.makeCompletedFuture { try upstreamRequest(for: req, to: target) }.flatMap { request in
            client.execute(request: request, eventLoop: .delegate(on: req.eventLoop))
        }.map { response in
            Response(status: response.status, headers: ["Content-Type": "application/json"], body: .init(buffer: response.body ?? ByteBuffer()))
        }
    }
}

/// Writes each body part of the upstream's answer to the client; runs on the client's event loop.
final class BodyRelay: HTTPClientResponseDelegate, @unchecked Sendable {
    typealias Response = Void
    private let writer: any BodyStreamWriter

    init(writer: any BodyStreamWriter) {
        self.writer = writer
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        writer.write(.buffer(buffer))
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        writer.write(.end, promise: nil)
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        writer.write(.error(error), promise: nil)
    }
}
