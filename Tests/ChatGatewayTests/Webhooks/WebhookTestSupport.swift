import Foundation
import SQLKit
import Testing
import Vapor

@testable import ChatGateway

/// A gateway with the admin API, sealed secrets, loopback endpoints allowed and a short retry schedule, and a
/// receiver: what every webhook test starts from.
enum Hooks {
    static let adminKey = "admin-key-0123456789abcdef"
    static let admin = [("X-Admin-Key", adminKey)]

    static func with(
        schedule: [Double] = [0.2, 0.2],
        adjust: @escaping (inout Settings) -> Void = { _ in },
        _ body: (GatewayHarness, WebhookReceiver) async throws -> Void
    ) async throws {
        try await GatewayHarness.with(adjust: { settings in
            settings.adminKeys = [adminKey]
            settings.encryptionKey = String(repeating: "ab", count: 32)
            settings.webhookAllowedNetworks = [IPAddressRange("127.0.0.0/8")!]
            settings.webhookRetrySchedule = WebhookRetrySchedule(waits: schedule)
            adjust(&settings)
        }) { gateway in
            try await WebhookReceiver.with { receiver in try await body(gateway, receiver) }
        }
    }

    /// Creates an endpoint; its id and secret.
    static func endpoint(
        _ gateway: GatewayHarness, url: String, events: [String]? = nil, includeContent: Bool = false,
        systemID: String? = nil
    ) async throws -> (id: String, secret: String) {
        var body: [String: Any] = ["url": url, "include_content": includeContent]
        if let events { body["events"] = events }
        if let systemID { body["system_id"] = systemID }
        let created = try await gateway.call(.POST, "/admin/v1/webhooks", headers: admin, json: body)
        #expect(created.status == 201, "\(created.text)")
        return (
            try #require(created.object["id"] as? String), try #require(created.object["secret"] as? String)
        )
    }

    static func chat(
        _ gateway: GatewayHarness, _ message: String, user: String = "u1", conversationID: String? = nil
    ) async throws -> GatewayHarness.Reply {
        var body: [String: Any] = ["system_id": "drillquiz", "user_id": user, "message": message]
        if let conversationID { body["conversation_id"] = conversationID }
        return try await gateway.call(.POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: body)
    }

    /// Whether one of the delivery's signatures is the secret's over `id.timestamp.body`.
    static func verifies(_ delivery: WebhookReceiver.Delivery, secret: String) -> Bool {
        guard let timestamp = Int(delivery.timestamp),
            let expected = WebhookSignature.signature(
                id: delivery.id, timestamp: timestamp, body: delivery.body, secret: secret)
        else { return false }
        return delivery.signature.split(separator: " ").contains { $0 == expected }
    }

    /// Waits for `count` deliveries of `type` (10 s at most).
    @discardableResult
    static func awaitDeliveries(
        _ receiver: WebhookReceiver, of type: String, count: Int = 1, _ gateway: GatewayHarness
    ) async throws -> [WebhookReceiver.Delivery] {
        try await gateway.waitFor("\(count) \(type)") { receiver.deliveries(of: type).count >= count }
        return receiver.deliveries(of: type)
    }

    static func eventCount(_ gateway: GatewayHarness, type: String) async throws -> Int {
        try await gateway.sql.select().column("id").from(WebhookTables.events)
            .where("type", .equal, SQLBind(type)).all().count
    }
}
