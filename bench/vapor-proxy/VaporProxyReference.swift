import AsyncHTTPClient
import Vapor

// vapor-proxy-reference serve --hostname H --port P   (UPSTREAM_URL=http://127.0.0.1:5001)
//
// A benchmark reference, not part of the gateway: the bare floor of the stack the gateway is built on. It proxies
// `POST /v1/chat-messages` to UPSTREAM_URL the way the gateway's blocking chat calls Dify (Vapor 4's async route
// handler, the body collected, AsyncHTTPClient's async API on the shared client, the answer collected and returned),
// and does nothing else: no middleware, no authentication, no validation, no database. `bench/chat-throughput.sh`
// runs it beside nginx, so the gateway's figures split into what Vapor and AsyncHTTPClient cost on this machine
// and what the gateway's own work adds.

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
        if Environment.get("PROXY_STYLE") == "futures" {
            app.on(.POST, "v1", "chat-messages", body: .collect(maxSize: "1mb")) { req -> EventLoopFuture<Response> in
                proxyWithFutures(req, to: target, with: client)
            }
        } else {
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
        request.headers.add(name: "Content-Type", value: "application/json")
        if let authorization = req.headers.first(name: .authorization) { request.headers.add(name: "Authorization", value: authorization) }
        request.body = .bytes(req.body.data ?? ByteBuffer())
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 << 20)
        return Response(status: response.status, headers: ["Content-Type": "application/json"], body: .init(buffer: body))
    }

    /// The same with no Swift task at all: a future-returning route and AsyncHTTPClient's future API on the request's loop.
    static func proxyWithFutures(_ req: Request, to target: String, with client: HTTPClient) -> EventLoopFuture<Response> {
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        if let authorization = req.headers.first(name: .authorization) { headers.add(name: "Authorization", value: authorization) }
        let request: HTTPClient.Request
        do {
            request = try HTTPClient.Request(url: target, method: .POST, headers: headers, body: .byteBuffer(req.body.data ?? ByteBuffer()))
        } catch {
            return req.eventLoop.makeFailedFuture(error)
        }
        return client.execute(request: request, eventLoop: .delegate(on: req.eventLoop)).map { response in
            Response(status: response.status, headers: ["Content-Type": "application/json"], body: .init(buffer: response.body ?? ByteBuffer()))
        }
    }
}
