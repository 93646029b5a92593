import Foundation
import SQLKit
import Testing
import Vapor

@testable import ChatGateway

/// Deliveries to a real receiver on loopback: what each event says, signed; retries on the schedule; 410 and
/// redirects; nothing from a change that rolled back; replays, rotations and the lease of a dead process.
@Suite("Webhook deliveries", .hangLimit)
struct WebhookDeliveryTests {
    @Test func aTurnIsDeliveredSignedNumberedAndWithoutContent() async throws {
        try await Hooks.with { gateway, receiver in
            let (_, secret) = try await Hooks.endpoint(gateway, url: receiver.url)
            let reply = try await Hooks.chat(gateway, "the capital of Mongolia")
            #expect(reply.status == 200)
            let completed = try #require(
                try await Hooks.awaitDeliveries(receiver, of: "message.completed", gateway).first)
            #expect(Hooks.verifies(completed, secret: secret))
            #expect(completed.id.hasPrefix("msg_"))
            let data = completed.data
            let conversationID = try #require(reply.object["conversation_id"] as? String)
            let messageID = try #require(reply.object["message_id"] as? String)
            #expect(data["conversation_id"] as? String == conversationID)
            #expect(data["dify_message_id"] as? String == messageID)
            #expect(data["message_id"] as? String == "\(messageID)_assistant")
            #expect(data["system_id"] as? String == "drillquiz" && data["user_id"] as? String == "u1")
            #expect(data["channel"] as? String == "/v1")
            #expect(data["status"] as? String == "completed")
            #expect((data["usage"] as? [String: Any])?["total_tokens"] is Int)
            #expect(data["sequence"] as? Int == 2)
            #expect(!completed.body.contains("Mongolia"), "content went to an endpoint without include_content")
            let created = try #require(
                try await Hooks.awaitDeliveries(receiver, of: "conversation.created", gateway).first)
            #expect(created.data["sequence"] as? Int == 1)
            // What the event tells of is stored: the cache API has it.
            let cached = try await gateway.call(
                .GET, "/v1/cache/conversations/\(conversationID)/messages", headers: GatewayHarness.keyHeader)
            #expect(cached.text.contains("\(messageID)_assistant"))
            let tampered = WebhookReceiver.Delivery(
                id: completed.id, timestamp: completed.timestamp, signature: completed.signature,
                body: completed.body.replacingOccurrences(of: "completed", with: "complete "))
            #expect(!Hooks.verifies(tampered, secret: secret))
            // Counted once the receiver's answer is in.
            try await gateway.waitFor("the deliveries counted") {
                let metrics = MetricsEndpointTests.samples(try await gateway.call(.GET, "/metrics").text)
                return (metrics[#"chatgw_webhook_deliveries_total{result="success"}"#] ?? 0) >= 2
            }
        }
    }

    /// `localhost` has `::1` too, outside 127.0.0.0/8: the delivery goes to the address that is allowed.
    @Test func aHostNameIsDeliveredToAnAddressChecked() async throws {
        try await Hooks.with { gateway, receiver in
            let url = receiver.url.replacingOccurrences(of: "127.0.0.1", with: "localhost")
            let (_, secret) = try await Hooks.endpoint(gateway, url: url, events: ["message.completed"])
            #expect(try await Hooks.chat(gateway, "by name").status == 200)
            let delivery = try #require(
                try await Hooks.awaitDeliveries(receiver, of: "message.completed", gateway).first)
            #expect(Hooks.verifies(delivery, secret: secret))
        }
    }

    @Test func contentGoesOnlyWhereIncludeContentIsOn() async throws {
        try await Hooks.with { gateway, receiver in
            try await WebhookReceiver.with { withContent in
                _ = try await Hooks.endpoint(gateway, url: receiver.url, events: ["message.completed"])
                _ = try await Hooks.endpoint(
                    gateway, url: withContent.url, events: ["message.completed"], includeContent: true)
                #expect(try await Hooks.chat(gateway, "zebra crossings").status == 200)
                let full = try #require(
                    try await Hooks.awaitDeliveries(withContent, of: "message.completed", gateway).first)
                #expect(full.data["question"] as? String == "zebra crossings")
                #expect((full.data["answer"] as? String)?.contains("zebra crossings") == true)
                let bare = try #require(
                    try await Hooks.awaitDeliveries(receiver, of: "message.completed", gateway).first)
                #expect(!bare.body.contains("zebra"))
                #expect(bare.id == full.id)
            }
        }
    }

    @Test func failuresAreRetriedOnTheScheduleWithOneIdAndListed() async throws {
        try await Hooks.with(schedule: [0.1, 0.1, 0.1]) { gateway, receiver in
            let (id, _) = try await Hooks.endpoint(gateway, url: receiver.url, events: ["message.completed"])
            receiver.answer { _ in
                receiver.deliveries.count <= 2 ? .init(status: .serviceUnavailable, body: "busy") : .init()
            }
            #expect(try await Hooks.chat(gateway, "retry me").status == 200)
            let attempts = try await Hooks.awaitDeliveries(receiver, of: "message.completed", count: 3, gateway)
            #expect(Set(attempts.map(\.id)).count == 1)
            try await gateway.waitFor("the success recorded") {
                let listed = try await gateway.call(.GET, "/admin/v1/webhooks/\(id)/deliveries", headers: Hooks.admin)
                return (listed.object["data"] as? [[String: Any]])?.first?["succeeded"] as? Bool == true
            }
            let listed = try await gateway.call(.GET, "/admin/v1/webhooks/\(id)/deliveries", headers: Hooks.admin)
            let rows = try #require(listed.object["data"] as? [[String: Any]])
            #expect(rows.map { $0["status_code"] as? Int } == [200, 503, 503])
            #expect(rows.map { $0["attempt"] as? Int } == [3, 2, 1])
            #expect(rows.last?["response"] as? String == "busy")
            #expect(rows.first?["event_type"] as? String == "message.completed")
            #expect(rows.first?["delivery_status"] as? String == "succeeded")
            let endpoint = try await gateway.call(.GET, "/admin/v1/webhooks/\(id)", headers: Hooks.admin)
            #expect((endpoint.object["stats"] as? [String: Any])?["attempts_24h"] as? Int == 3)
        }
    }

    @Test func goneDisablesAtOnceAndTellsTheOtherEndpoints() async throws {
        try await Hooks.with { gateway, receiver in
            try await WebhookReceiver.with { operations in
                let (gone, _) = try await Hooks.endpoint(gateway, url: receiver.url, events: ["message.completed"])
                _ = try await Hooks.endpoint(gateway, url: operations.url, events: ["webhook.endpoint.disabled"])
                receiver.answer { _ in .init(status: .gone) }
                #expect(try await Hooks.chat(gateway, "anyone there?").status == 200)
                let told = try #require(
                    try await Hooks.awaitDeliveries(operations, of: "webhook.endpoint.disabled", gateway).first)
                #expect(told.data["endpoint_id"] as? String == gone)
                #expect(told.data["reason"] as? String == "the endpoint answered 410 Gone")
                #expect(try await Hooks.chat(gateway, "and now?").status == 200)
                // Once every event is fanned out, a disabled endpoint has no new delivery to be sent.
                try await gateway.waitFor("every event fanned out") {
                    try await gateway.sql.select().column("id").from(WebhookTables.events)
                        .where("fanned_at", .is, SQLLiteral.null).first() == nil
                }
                let deliveries = try await gateway.sql.select().column("id").from(WebhookTables.deliveries)
                    .where("endpoint_id", .equal, SQLBind(gone)).all()
                #expect(deliveries.count == 1 && receiver.deliveries.count == 1)
                let endpoint = try await gateway.call(.GET, "/admin/v1/webhooks/\(gone)", headers: Hooks.admin)
                #expect(endpoint.object["enabled"] as? Bool == false)
                let test = try await gateway.call(.POST, "/admin/v1/webhooks/\(gone)/test", headers: Hooks.admin)
                #expect(test.status == 409)
            }
        }
    }

    @Test func fiveDaysOfFailuresDisableAndTheQueueIsMeasured() async throws {
        try await Hooks.with(schedule: [3_600]) { gateway, receiver in
            let (id, _) = try await Hooks.endpoint(gateway, url: receiver.url, events: ["message.completed"])
            receiver.answer { _ in .init(status: .internalServerError) }
            #expect(try await Hooks.chat(gateway, "first").status == 200)
            try await Hooks.awaitDeliveries(receiver, of: "message.completed", gateway)
            try await gateway.waitFor("the queue measured") {
                let metrics = MetricsEndpointTests.samples(try await gateway.call(.GET, "/metrics").text)
                return metrics["chatgw_webhook_queue_depth"] == 1
                    && (metrics["chatgw_webhook_oldest_pending_age_seconds"] ?? -1) >= 0
            }
            try await gateway.waitFor("the failure recorded") {
                let failing = try await gateway.call(.GET, "/admin/v1/webhooks/\(id)", headers: Hooks.admin)
                return failing.object["failing_since"] is String && failing.object["enabled"] as? Bool == true
            }
            try await gateway.sql.update(WebhookTables.endpoints)
                .set("failing_since", to: SQLBind(Date().timeIntervalSince1970 - 5 * 86_400 - 60)).run()
            #expect(try await Hooks.chat(gateway, "second").status == 200)
            try await gateway.waitFor("the endpoint disabled") {
                try await gateway.call(.GET, "/admin/v1/webhooks/\(id)", headers: Hooks.admin)
                    .object["enabled"] as? Bool == false
            }
            let disabled = try await gateway.call(.GET, "/admin/v1/webhooks/\(id)", headers: Hooks.admin)
            #expect(disabled.object["disabled_reason"] as? String == "every attempt failed for five days")
        }
    }

    @Test func aRedirectIsAFailureAndTheLastOneGivesUp() async throws {
        try await Hooks.with(schedule: [0.1]) { gateway, receiver in
            let (id, _) = try await Hooks.endpoint(gateway, url: receiver.url, events: ["message.completed"])
            receiver.answer { _ in .init(status: .found, headers: [("Location", "http://127.0.0.1:9/elsewhere")]) }
            #expect(try await Hooks.chat(gateway, "follow me").status == 200)
            try await Hooks.awaitDeliveries(receiver, of: "message.completed", count: 2, gateway)
            try await gateway.waitFor("the delivery given up") {
                let rows =
                    try await gateway.call(.GET, "/admin/v1/webhooks/\(id)/deliveries", headers: Hooks.admin)
                    .object["data"] as? [[String: Any]]
                return rows?.count == 2 && rows?.first?["delivery_status"] as? String == "failed"
            }
            let rows =
                try await gateway.call(.GET, "/admin/v1/webhooks/\(id)/deliveries", headers: Hooks.admin)
                .object["data"] as? [[String: Any]]
            #expect(
                rows?.allSatisfy { $0["result"] as? String == "redirect" && $0["succeeded"] as? Bool == false } == true)
            // A replay starts the delivery again, with the same id.
            receiver.answer { _ in .init() }
            let eventID = try #require(rows?.first?["event_id"] as? String)
            let replayed = try await gateway.call(
                .POST, "/admin/v1/webhooks/\(id)/deliveries/\(eventID)/replay", headers: Hooks.admin)
            #expect(replayed.status == 202)
            try await Hooks.awaitDeliveries(receiver, of: "message.completed", count: 3, gateway)
            #expect(receiver.deliveries.last?.id == eventID)
            let since = try await gateway.call(
                .POST, "/admin/v1/webhooks/\(id)/replay", headers: Hooks.admin,
                json: ["since": ISO8601.string(Date().addingTimeInterval(-60))])
            #expect(since.object["replayed"] as? Int == 1)
            try await Hooks.awaitDeliveries(receiver, of: "message.completed", count: 4, gateway)
            let unknown = try await gateway.call(
                .POST, "/admin/v1/webhooks/\(id)/deliveries/msg_nosuchevent/replay", headers: Hooks.admin)
            #expect(unknown.status == 404)
        }
    }

    @Test func aTurnWhoseCommitFailsEmitsNothing() async throws {
        try await Hooks.with { gateway, receiver in
            _ = try await Hooks.endpoint(gateway, url: receiver.url)
            if TestDatabase.postgresURL == nil {
                try await gateway.sql.raw(
                    """
                    CREATE TRIGGER refuse_answer BEFORE INSERT ON gateway_messages
                    WHEN NEW.role = 'assistant' AND NEW.content LIKE '%refuse this%'
                    BEGIN SELECT RAISE(ABORT, 'refused by the test'); END
                    """
                ).run()
            } else {
                try await gateway.sql.raw(
                    """
                    CREATE FUNCTION refuse_answer() RETURNS trigger AS $$ BEGIN
                    IF NEW.role = 'assistant' AND NEW.content LIKE '%refuse this%' THEN
                    RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql
                    """
                ).run()
                try await gateway.sql.raw(
                    "CREATE TRIGGER refuse_answer BEFORE INSERT ON gateway_messages FOR EACH ROW EXECUTE FUNCTION refuse_answer()"
                ).run()
            }
            let refused = try await Hooks.chat(gateway, "refuse this")
            #expect(refused.status != 200)
            #expect(try await Hooks.chat(gateway, "but this one").status == 200)
            // Each chat's events were committed (or not) before its answer: the outbox says it all.
            #expect(try await Hooks.eventCount(gateway, type: "message.completed") == 1)
            #expect(try await Hooks.eventCount(gateway, type: "conversation.created") == 1)
            #expect(!receiver.deliveries.contains { $0.body.contains("refuse this") })
        }
    }

    @Test func feedbackRenamesAndDeletionsAreEventsInTheirConversationsCount() async throws {
        try await Hooks.with { gateway, receiver in
            _ = try await Hooks.endpoint(
                gateway, url: receiver.url,
                events: ["feedback.created", "feedback.updated", "conversation.renamed", "conversation.deleted"],
                includeContent: true)
            let reply = try await Hooks.chat(gateway, "rate me")
            let conversationID = try #require(reply.object["conversation_id"] as? String)
            let messageID = try #require(reply.object["message_id"] as? String)
            let identity = ["system_id": "drillquiz", "user_id": "u1"]
            func feedback(_ body: [String: Any]) async throws -> Int {
                try await gateway.call(
                    .POST, "/v1/messages/\(messageID)/feedbacks", headers: GatewayHarness.keyHeader,
                    json: body.merging(identity) { $1 }
                ).status
            }
            #expect(try await feedback(["rating": "like"]) == 200)
            #expect(try await feedback(["rating": "dislike", "content": "too short"]) == 200)
            #expect(try await feedback(["rating": NSNull()]) == 200)
            let created = try await Hooks.awaitDeliveries(receiver, of: "feedback.created", gateway)
            // Deliveries run side by side: their order is the conversation's count, not their arrival.
            let updated = try await Hooks.awaitDeliveries(receiver, of: "feedback.updated", count: 2, gateway)
                .sorted { ($0.data["sequence"] as? Int ?? 0) < ($1.data["sequence"] as? Int ?? 0) }
            #expect(created.first?.data["rating"] as? String == "like")
            #expect(updated.map { $0.data["previous_rating"] as? String } == ["like", "dislike"])
            #expect(updated.first?.data["content"] as? String == "too short")
            #expect(updated.last?.data["rating"] is NSNull)
            let renamed = try await gateway.call(
                .POST, "/v1/conversations/\(conversationID)/name", headers: GatewayHarness.keyHeader,
                json: identity.merging(["name": "Ratings"]) { $1 })
            #expect(renamed.status == 200)
            #expect(
                try await Hooks.awaitDeliveries(receiver, of: "conversation.renamed", gateway).first?.data["name"]
                    as? String == "Ratings")
            let deleted = try await gateway.call(
                .DELETE, "/v1/conversations/\(conversationID)?system_id=drillquiz&user_id=u1",
                headers: GatewayHarness.keyHeader)
            #expect(deleted.status == 204)
            try await Hooks.awaitDeliveries(receiver, of: "conversation.deleted", gateway)
            let sequences = receiver.deliveries.compactMap { $0.data["sequence"] as? Int }.sorted()
            #expect(sequences == [3, 4, 5, 6, 7], "conversation.created and message.completed were 1 and 2")
        }
    }

    @Test func aBudgetTellsItsThresholdsAndItsFirstRefusalOnce() async throws {
        try await Hooks.with(adjust: {
            $0.budgetPerUser = try! BudgetLimit.parseList("40 tokens/day", variable: "BUDGET_PER_USER")
        }) { gateway, receiver in
            _ = try await Hooks.endpoint(
                gateway, url: receiver.url, events: ["budget.exceeded", "usage.threshold_reached"])
            #expect(try await Hooks.chat(gateway, "/tokens 25").status == 200)
            let half = try await Hooks.awaitDeliveries(receiver, of: "usage.threshold_reached", gateway)
            #expect(half.map { $0.data["threshold"] as? Int } == [50])
            #expect(try await Hooks.chat(gateway, "/tokens 25").status == 200)
            let all = try await Hooks.awaitDeliveries(receiver, of: "usage.threshold_reached", count: 3, gateway)
            #expect(all.compactMap { $0.data["threshold"] as? Int }.sorted() == [50, 80, 100])
            #expect(try await Hooks.chat(gateway, "/tokens 25").status == 429)
            #expect(try await Hooks.chat(gateway, "/tokens 25").status == 429)
            let exceeded = try await Hooks.awaitDeliveries(receiver, of: "budget.exceeded", gateway)
            #expect(try await Hooks.eventCount(gateway, type: "budget.exceeded") == 1)
            let data = try #require(exceeded.first?.data)
            #expect(data["user_id"] as? String == "u1")
            #expect((data["budget"] as? [String: Any])?["limit"] as? Int == 40)
            #expect((data["budget"] as? [String: Any])?["period"] as? String == "day")
            #expect((data["used"] as? Int ?? 0) >= 40)
        }
    }

    @Test func aRotatedSecretSignsBesideTheNewOne() async throws {
        try await Hooks.with { gateway, receiver in
            let (id, old) = try await Hooks.endpoint(gateway, url: receiver.url, events: ["webhook.test"])
            let rotated = try await gateway.call(.POST, "/admin/v1/webhooks/\(id)/rotate-secret", headers: Hooks.admin)
            #expect(rotated.status == 200)
            let new = try #require(rotated.object["secret"] as? String)
            #expect(new != old && rotated.object["previous_secret_expires_at"] is String)
            let test = try await gateway.call(.POST, "/admin/v1/webhooks/\(id)/test", headers: Hooks.admin)
            #expect(test.status == 202)
            let delivery = try #require(try await Hooks.awaitDeliveries(receiver, of: "webhook.test", gateway).first)
            #expect(delivery.id == test.object["event_id"] as? String)
            #expect(delivery.signature.split(separator: " ").count == 2)
            #expect(Hooks.verifies(delivery, secret: old) && Hooks.verifies(delivery, secret: new))
        }
    }

    @Test func aDeadProcessesClaimIsTakenOverWhenItsLeaseRunsOut() async throws {
        try await Hooks.with { gateway, receiver in
            _ = try await Hooks.endpoint(gateway, url: receiver.url, events: ["message.completed"])
            // The outbox fills while no endpoint is reachable: every delivery is claimed by a process that died.
            try await gateway.sql.update(WebhookTables.endpoints).set("enabled", to: SQLBind(false)).run()
            #expect(try await Hooks.chat(gateway, "orphaned").status == 200)
            try await gateway.waitFor("the event fanned out") {
                try await gateway.sql.select().column("id").from(WebhookTables.events)
                    .where("type", .equal, SQLBind("message.completed")).where("fanned_at", .isNot, SQLLiteral.null)
                    .first() != nil
            }
            let future = Date().timeIntervalSince1970 + 3_600
            try await gateway.sql.raw(
                """
                INSERT INTO gateway_webhook_deliveries (id, event_id, endpoint_id, status, attempts, next_attempt_at, \
                lease_holder, lease_expires_at, occurred_at, updated_at) \
                SELECT 'orphan', e.id, p.id, 'pending', 0, 0, 'dead-process', \(bind: future), e.occurred_at, 0 \
                FROM gateway_webhook_events e, gateway_webhook_endpoints p WHERE e.type = 'message.completed' \
                AND NOT EXISTS (SELECT 1 FROM gateway_webhook_deliveries d WHERE d.event_id = e.id)
                """
            ).run()
            try await gateway.sql.update(WebhookTables.endpoints).set("enabled", to: SQLBind(true)).run()
            // A test event to another endpoint arriving shows the dispatcher went round since.
            try await WebhookReceiver.with { probe in
                let (probeID, _) = try await Hooks.endpoint(gateway, url: probe.url, events: ["webhook.test"])
                #expect(
                    try await gateway.call(.POST, "/admin/v1/webhooks/\(probeID)/test", headers: Hooks.admin).status
                        == 202)
                try await Hooks.awaitDeliveries(probe, of: "webhook.test", gateway)
            }
            #expect(receiver.deliveries.isEmpty, "a claim still held was taken")
            try await gateway.sql.update(WebhookTables.deliveries)
                .set("lease_expires_at", to: SQLBind(Date().timeIntervalSince1970 - 1)).run()
            try await Hooks.awaitDeliveries(receiver, of: "message.completed", gateway)
        }
    }
}
