import FakeDify
import Foundation
import Vapor

/// The fake Dify, started inside the gateway's process on a loopback port when no real Dify is configured,
/// so `swift run chat-gateway` answers out of the box. The gateway reaches it over real HTTP like any Dify. It plays
/// the demo app (`FakeDifyOptions.demo`), so a first chat shows what the page can do.
struct DemoUpstream {
    let baseURL: URL
    let apiKey: String

    static func start(_ app: Application) async throws -> DemoUpstream {
        let apiKey = "app-demo-" + String.randomHex(bytes: 12)
        let server = try await FakeDifyServer.start(store: FakeDifyStore(options: .demo(apiKeys: [apiKey])))
        app.lifecycle.use(Stopper(server: server))
        return DemoUpstream(baseURL: URL(string: server.baseURL)!, apiKey: apiKey)
    }

    private struct Stopper: LifecycleHandler {
        let server: FakeDifyServer
        func shutdownAsync(_ application: Application) async {
            try? await server.shutdown()
        }
    }
}
