import Foundation
import SQLKit
import Testing

@testable import ChatGateway

/// `/admin/v1/webhooks`: endpoints as data, their secrets shown once and sealed, their URLs checked, every change
/// audited.
@Suite("Webhook endpoints", .hangLimit)
struct WebhookAdminTests {
    @Test func anEndpointIsMadeListedChangedAndDeletedItsSecretShownOnce() async throws {
        try await Hooks.with { gateway, receiver in
            let (id, secret) = try await Hooks.endpoint(
                gateway, url: receiver.url, events: ["message.completed", "feedback.created"], systemID: "drillquiz")
            #expect(id.hasPrefix("ep_"))
            #expect(secret.hasPrefix("whsec_"))
            #expect(Data(base64Encoded: String(secret.dropFirst(6)))?.count == 32)

            let listed = try await gateway.call(.GET, "/admin/v1/webhooks", headers: Hooks.admin)
            #expect(listed.status == 200)
            let endpoint = try #require(listed.array.first)
            #expect(endpoint["secret"] == nil)
            #expect(endpoint["url"] as? String == receiver.url)
            #expect(endpoint["system_id"] as? String == "drillquiz")
            #expect(endpoint["events"] as? [String] == ["feedback.created", "message.completed"])
            #expect(endpoint["include_content"] as? Bool == false)
            #expect(endpoint["enabled"] as? Bool == true)
            #expect(endpoint["disabled_reason"] is NSNull)
            #expect((endpoint["stats"] as? [String: Any])?["attempts_24h"] as? Int == 0)

            let sealed = try await gateway.sql.select().column("secret_sealed").from(WebhookTables.endpoints).first()?
                .decode(column: "secret_sealed", as: String.self)
            #expect(sealed != nil && sealed?.contains(String(secret.dropFirst(6))) == false)

            let changed = try await gateway.call(
                .PATCH, "/admin/v1/webhooks/\(id)", headers: Hooks.admin,
                json: ["events": ["*"], "include_content": true, "enabled": false, "description": "quiz points"])
            #expect(changed.status == 200)
            #expect(changed.object["events"] as? [String] == ["*"])
            #expect(changed.object["enabled"] as? Bool == false)
            #expect(changed.object["disabled_reason"] as? String == "disabled by an operator")
            let enabled = try await gateway.call(
                .PATCH, "/admin/v1/webhooks/\(id)", headers: Hooks.admin, json: ["enabled": true])
            #expect(enabled.object["disabled_reason"] is NSNull)
            let moved = try await gateway.call(
                .PATCH, "/admin/v1/webhooks/\(id)", headers: Hooks.admin, json: ["system_id": "cointutor"])
            #expect(moved.status == 422)

            #expect(try await gateway.call(.DELETE, "/admin/v1/webhooks/\(id)", headers: Hooks.admin).status == 204)
            #expect(try await gateway.call(.GET, "/admin/v1/webhooks/\(id)", headers: Hooks.admin).status == 404)
            let audit = try await gateway.call(.GET, "/admin/v1/audit", headers: Hooks.admin)
            let actions = audit.array.compactMap { $0["action"] as? String }
            #expect(actions.prefix(4) == ["webhook.deleted", "webhook.updated", "webhook.updated", "webhook.created"])
            #expect(!audit.text.contains(String(secret.dropFirst(6))))
        }
    }

    @Test(arguments: [
        "http://127.0.0.1:9/hook", "http://169.254.169.254/latest/meta-data", "https://10.0.0.1/hook",
        "http://[::1]:9/hook", "https://100.100.100.200/", "ftp://example.com/hook", "http://user@127.0.0.1/",
    ])
    func addressesInsideAreRefusedWithoutWEBHOOK_ALLOWED_NETWORKS(url: String) async throws {
        try await Hooks.with(adjust: { $0.webhookAllowedNetworks = [] }) { gateway, _ in
            let refused = try await gateway.call(.POST, "/admin/v1/webhooks", headers: Hooks.admin, json: ["url": url])
            #expect(refused.status == 400, "\(url): \(refused.text)")
            #expect(refused.detail?.hasPrefix("url ") == true)
        }
    }

    @Test func theAllowedNetworksLetLoopbackInOverHTTPButNothingElse() async throws {
        try await Hooks.with { gateway, receiver in
            #expect(
                try await gateway.call(.POST, "/admin/v1/webhooks", headers: Hooks.admin, json: ["url": receiver.url])
                    .status == 201)
            let metadata = try await gateway.call(
                .POST, "/admin/v1/webhooks", headers: Hooks.admin, json: ["url": "http://169.254.169.254/"])
            #expect(metadata.status == 400)
            #expect(metadata.detail?.contains("WEBHOOK_ALLOWED_NETWORKS") == true)
            let plain = try await gateway.call(
                .POST, "/admin/v1/webhooks", headers: Hooks.admin, json: ["url": "http://93.184.216.34/hook"])
            #expect(plain.status == 400)
            #expect(plain.detail?.contains("https") == true)
        }
    }

    @Test func badFieldsAre422AndNoEncryptionKeyIs409() async throws {
        try await Hooks.with { gateway, receiver in
            for body: [String: Any] in [
                ["url": receiver.url, "events": ["message.exploded"]], ["url": receiver.url, "events": []],
                ["url": receiver.url, "system_id": "no such system"],
            ] {
                let refused = try await gateway.call(.POST, "/admin/v1/webhooks", headers: Hooks.admin, json: body)
                #expect(refused.status == 422, "\(body): \(refused.text)")
            }
        }
        try await Hooks.with(adjust: { $0.encryptionKey = nil }) { gateway, receiver in
            let refused = try await gateway.call(
                .POST, "/admin/v1/webhooks", headers: Hooks.admin, json: ["url": receiver.url])
            #expect(refused.status == 409)
            #expect(refused.detail?.contains("CHAT_GATEWAY_ENCRYPTION_KEY") == true)
        }
    }

    @Test func theSignatureIsStandardWebhooks() {
        // The specification's own example.
        let signature = WebhookSignature.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: #"{"test": 2432232314}"#,
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        #expect(
            WebhookSignature.header(id: "msg_1", timestamp: 1, body: "{}", secrets: ["whsec_AAAA", "whsec_BBBB"])
                .split(separator: " ").count == 2)
    }

    @Test func theScheduleIsParsedAndRetryAfterHonoured() throws {
        #expect(try WebhookRetrySchedule(parsing: "1, 2,3", variable: "W").waits == [1, 2, 3])
        #expect(throws: SettingsError.self) { try WebhookRetrySchedule(parsing: "1,soon", variable: "W") }
        let schedule = WebhookRetrySchedule(waits: [10, 20])
        let first = try #require(schedule.wait(afterAttempt: 1, retryAfter: nil))
        #expect(first >= 10 && first <= 11)
        #expect(schedule.wait(afterAttempt: 2, retryAfter: 120) == 120)
        #expect(schedule.wait(afterAttempt: 3, retryAfter: nil) == nil)
        let now = Date(timeIntervalSince1970: 1_765_000_000)
        #expect(WebhookRetrySchedule.retryAfter("30", now: now) == 30)
        #expect(
            WebhookRetrySchedule.retryAfter(
                "Sat, 06 Dec 2025 06:01:40 GMT", now: Date(timeIntervalSince1970: 1_764_999_900)) == 1_000)
    }
}
