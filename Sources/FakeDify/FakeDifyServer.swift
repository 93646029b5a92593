import Vapor

/// A real HTTP server (its own Vapor `Application`) serving the fake Dify API and the `/_fake` control routes.
public struct FakeDifyServer: Sendable {
    public let store: FakeDifyStore
    /// `"http://<host>:<port>"`, without the `/v1` suffix.
    public let baseURL: String
    public let port: Int
    private let app: Application

    /// Starts a real HTTP server on host:port (port 0 = ephemeral). Usable from tests and from another
    /// Vapor app's process: it has its own `Application` and does not touch global logging.
    public static func start(
        host: String = "127.0.0.1",
        port: Int = 0,
        store: FakeDifyStore = FakeDifyStore(),
        logLevel: Logger.Level = .warning
    ) async throws -> FakeDifyServer {
        var logger = Logger(label: "fake-dify")
        logger.logLevel = logLevel
        // Explicit arguments, so Vapor never parses the host process's command line.
        let app = try await Application.make(Environment(name: "fake-dify", arguments: ["fake-dify"]), logger: logger)
        do {
            // Unmatched paths and Vapor's own errors (e.g. body too large) in Dify's error shape.
            app.middleware = Middlewares()
            app.middleware.use(FakeDifyErrorMiddleware())
            app.http.server.configuration.hostname = host
            app.http.server.configuration.port = port
            registerFakeDifyRoutes(on: app.routes, store: store)
            registerFakeDifyControlRoutes(on: app.routes, store: store)
            try await app.asyncBoot()
            try await app.server.start(address: .hostname(host, port: port))
            guard let bound = app.http.server.shared.localAddress?.port else {
                throw FakeDifyServerError.noBoundPort
            }
            let hostPart = host.contains(":") ? "[\(host)]" : host
            return FakeDifyServer(store: store, baseURL: "http://\(hostPart):\(bound)", port: bound, app: app)
        } catch {
            try? await app.asyncShutdown()
            throw error
        }
    }

    /// Ends in-flight streams and hung requests first: Vapor's shutdown waits for open requests.
    public func shutdown() async throws {
        await store.abortInFlight()
        await app.server.shutdown()
        try await app.asyncShutdown()
    }
}

enum FakeDifyServerError: Error {
    case noBoundPort
}

/// Turns errors that escape the routes (unknown paths, Vapor aborts) into Dify's `{"code","message","status"}`.
struct FakeDifyErrorMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch let error as DifyError {
            return error.response
        } catch let error as any AbortError {
            if error.status == .notFound { return DifyError.urlNotFound.response }
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            return DifyError(status: Int(error.status.code), code: code, message: error.reason).response
        } catch {
            request.logger.error("fake-dify: unexpected error: \(error)")
            return DifyError.internalServerError.response
        }
    }
}
