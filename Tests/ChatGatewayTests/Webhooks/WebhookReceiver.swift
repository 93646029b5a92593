import Foundation
import NIOConcurrencyHelpers
import Vapor

@testable import ChatGateway

/// A webhook endpoint on a loopback port: a real HTTP server that records every delivery and answers what `answer`
/// says for it (200 by default).
final class WebhookReceiver: Sendable {
    struct Delivery: Sendable {
        let id: String
        let timestamp: String
        let signature: String
        let body: String

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        var type: String? { json["type"] as? String }
        var data: [String: Any] { json["data"] as? [String: Any] ?? [:] }
    }

    struct Answer: Sendable {
        var status: HTTPResponseStatus = .ok
        var headers: [(String, String)] = []
        var body = "ok"
    }

    private let app: Application
    private let received = NIOLockedValueBox<[Delivery]>([])
    private let answer = NIOLockedValueBox<@Sendable (Delivery) -> Answer>({ _ in Answer() })
    private let address = NIOLockedValueBox("")
    var url: String { address.withLockedValue { $0 } }

    private init(app: Application) {
        self.app = app
    }

    static func start(path: String = "hook") async throws -> WebhookReceiver {
        let app = try await Application.make(.testing)
        app.logger.logLevel = .error
        app.http.server.configuration.hostname = "127.0.0.1"
        app.http.server.configuration.port = 0
        let receiver = WebhookReceiver(app: app)
        app.post(PathComponent(stringLiteral: path)) { req async throws -> Response in
            let body = String(buffer: try await req.body.collect(upTo: 1 << 20))
            let delivery = Delivery(
                id: req.headers.first(name: "webhook-id") ?? "",
                timestamp: req.headers.first(name: "webhook-timestamp") ?? "",
                signature: req.headers.first(name: "webhook-signature") ?? "", body: body)
            receiver.received.withLockedValue { $0.append(delivery) }
            let answer = receiver.answer.withLockedValue { $0 }(delivery)
            return Response(
                status: answer.status, headers: HTTPHeaders(answer.headers), body: .init(string: answer.body))
        }
        try await app.server.start(address: .hostname("127.0.0.1", port: 0))
        let port = app.http.server.shared.localAddress!.port!
        receiver.address.withLockedValue { $0 = "http://127.0.0.1:\(port)/\(path)" }
        return receiver
    }

    func answer(with respond: @escaping @Sendable (Delivery) -> Answer) {
        answer.withLockedValue { $0 = respond }
    }

    var deliveries: [Delivery] { received.withLockedValue { $0 } }

    func deliveries(of type: String) -> [Delivery] { deliveries.filter { $0.type == type } }

    func stop() async {
        await app.server.shutdown()
        try? await app.asyncShutdown()
    }

    /// Runs `body` with a receiver that is stopped afterwards.
    static func with<T>(_ body: (WebhookReceiver) async throws -> T) async throws -> T {
        let receiver = try await start()
        do {
            let result = try await body(receiver)
            await receiver.stop()
            return result
        } catch {
            await receiver.stop()
            throw error
        }
    }
}
