import AsyncHTTPClient
import FakeDify
import Fluent
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import SQLKit
import Testing
import Vapor

@testable import ChatGateway

/// A gateway on a loopback port in front of a `FakeDify` on another, both real HTTP servers,
/// on a throwaway SQLite file. Every test gets its own.
struct GatewayHarness {
    static let apiKey = "test-key-0123456789"
    static let jwtSecret = "test-secret-0123456789abcdef"
    static let difyKey = "app-test-key"

    let app: Application
    let fake: FakeDifyServer
    let baseURL: String
    let settings: Settings

    /// The gateway's settings as production parses them, from the environment a test deployment would have.
    static func settings(fakeURL: String, database: Settings.Database) throws -> Settings {
        let databaseURL =
            switch database {
            case .sqlite(let path): "sqlite:///" + path
            case .postgres(let url): url
            }
        return try Settings.parse(
            environment: [
                "DIFY_BASE_URL": fakeURL, "DIFY_API_KEY": difyKey, "DIFY_TIMEOUT": "30", "DIFY_MAX_CONNECTIONS": "64",
                "DIFY_STREAM_IDLE_TIMEOUT": "30", "CHAT_GATEWAY_JWT_SECRET": jwtSecret, "CHAT_GATEWAY_API_KEY": apiKey,
                "DATABASE_URL": databaseURL, "HOST": "127.0.0.1", "PORT": "0",
                // Tests run in parallel against one PostgreSQL server.
                "DATABASE_POOL_SIZE": "2",
                // Admin-set systems point at fake Difys on loopback, as a test deployment would allow.
                "DIFY_ALLOWED_NETWORKS": "127.0.0.0/8",
            ], isProduction: false)
    }

    /// Runs `body` against a fresh gateway; `adjust` changes the settings first. With `logs`, every log line from
    /// start-up on (configure, migrations, requests, the Dify breakers, the sync), at debug level, goes there; in
    /// `logFormat`, as production writes it, when given.
    static func with<T>(
        fakeOptions: FakeDifyOptions = FakeDifyOptions(apiKeys: [difyKey]),
        adjust: (inout Settings) -> Void = { _ in },
        dependencies: GatewayDependencies = .init(),
        logs: LogCapture? = nil,
        logFormat: LogFormat? = nil,
        _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        let fake = try await FakeDifyServer.start(store: FakeDifyStore(options: fakeOptions))
        let database = try await TestDatabase.make()
        var settings = try settings(fakeURL: fake.baseURL, database: database.settings)
        adjust(&settings)
        let app = try await Application.make(.testing)
        app.logger.logLevel = .warning
        if let logs {
            // With a format, the lines are the production handler's own, written to the capture.
            app.logger = Logger(label: "capture") { label in
                logFormat?.handler(
                    label: label, level: .debug, metadataProvider: nil, output: CaptureOutput(capture: logs))
                    ?? CapturingLogHandler(capture: logs)
            }
        }
        do {
            try await configure(app, settings: settings, dependencies: dependencies)
            try await MigrationRunner(database: settings.database).run(on: app)
            try await app.asyncBoot()  // lifecycle handlers: SQLite tuning, the sync schedule
            try await app.server.start(address: .hostname("127.0.0.1", port: 0))
            let port = app.http.server.shared.localAddress!.port!
            let harness = GatewayHarness(app: app, fake: fake, baseURL: "http://127.0.0.1:\(port)", settings: settings)
            let result = try await body(harness)
            await harness.stop(database)
            return result
        } catch {
            await GatewayHarness(app: app, fake: fake, baseURL: "", settings: settings).stop(database)
            throw error
        }
    }

    private func stop(_ database: TestDatabase) async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
        try? await fake.shutdown()
        await database.remove()
    }

    struct Reply {
        let status: Int
        let headers: HTTPHeaders
        let body: Data

        var text: String { String(decoding: body, as: UTF8.self) }
        func json() throws -> Any { try JSONSerialization.jsonObject(with: body) }
        var object: [String: Any] { ((try? json()) as? [String: Any]) ?? [:] }
        var array: [[String: Any]] { ((try? json()) as? [[String: Any]]) ?? [] }
        var detail: String? { object["detail"] as? String }
    }

    /// A real HTTP request to the gateway.
    func call(
        _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], json: Any? = nil, rawBody: Data? = nil
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        } else if let rawBody {
            request.body = .bytes(ByteBuffer(data: rawBody))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
    }

    static let keyHeader = [("X-API-Key", apiKey)]

    func token(system: String = "drillquiz", user: String = "u1") async throws -> String {
        try await ChatTokenService(secret: Self.jwtSecret).issue(systemID: system, userID: user)
    }

    func messages(system: String, user: String) async throws -> [StoredMessage] {
        try await StoredMessage.query(on: app.db).filter(\.$systemID == system).filter(\.$userID == user).sort(
            \.$createdAt
        ).all()
    }
}

extension GatewayHarness {
    var adminStore: AdminStore { AdminStore(database: { [app] in app.db }) }
    var sql: any SQLDatabase { app.db as! any SQLDatabase }

    /// Polls `condition` for up to `limit` (10 s unless told).
    func waitFor(
        _ what: String, within limit: Duration = .seconds(10), _ condition: () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + limit
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}
