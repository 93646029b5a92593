import AsyncHTTPClient
import FakeDify
import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Testing
import Vapor

@testable import ChatGateway

@Suite("Erasure of one user", .hangLimit)
struct ErasureTests {
    @Test("nothing of the user is left in the database's files or in Dify, and other users are untouched")
    func nothingIsLeft() async throws {
        try await PersonalData.with { gateway in
            let user = "person-q7z3k9w2"
            let canary = "CANARY-\(UUID().uuidString)"
            let first = try await PersonalData.chat(gateway, "one \(canary)", user: user)
            try await PersonalData.chat(gateway, "two \(canary)", user: user, conversationID: first)
            let second = try await PersonalData.chat(gateway, "three \(canary)", user: user)
            try await PersonalData.chat(gateway, "four \(canary)", user: user, conversationID: second)
            try await PersonalData.chat(gateway, "five \(canary)", user: user)
            try await PersonalData.directConversation(gateway, user: user, query: "straight to Dify")
            try await PersonalData.directConversation(gateway, user: user, query: "again straight to Dify")
            let bystander = "bystander-1"
            try await PersonalData.chat(gateway, "hello", user: bystander)
            try await PersonalData.chat(gateway, "hello again", user: bystander)
            let before = try await Self.counts(gateway, user: bystander)
            #expect(try await Self.holdsAnywhere(gateway, canary), "the check must see the canary before the erasure")

            let receipt = try await PersonalData.erase(gateway, user: user)

            #expect(receipt["status"] as? String == "completed", "\(receipt)")
            #expect(receipt["dify_conversations_deleted"] as? Int == 5)
            let counts = receipt["gateway"] as? [String: Int]
            #expect(counts?["conversations"] == 3)
            #expect(counts?["messages"] == 10)
            #expect(counts?["users"] == 1)
            let subject = try #require(receipt["subject"] as? String)
            #expect(subject.hasPrefix("erased_"))
            #expect(!"\(receipt)".contains(user))
            #expect((receipt["dify_keeps"] as? [String])?.isEmpty == false)
            #expect(
                (receipt["steps"] as? [[String: Any]])?.allSatisfy { $0["status"] as? String == "completed" } == true)
            #expect(try await PersonalData.difyConversations(gateway, user: user) == 0)
            #expect(try await PersonalData.difyConversations(gateway, user: bystander) == 2)
            #expect(try await Self.counts(gateway, user: bystander) == before)
            #expect(try await !Self.holdsAnywhere(gateway, canary))
            #expect(try await !Self.holdsAnywhere(gateway, user))
            // The totals stay, under the pseudonym.
            let usage = try await gateway.sql.select().column("chats").from(UsageRollup.usersTable)
                .where("user_id", .equal, SQLBind(subject)).all()
            #expect(try usage.map { try $0.decode(column: "chats", as: Int.self) }.reduce(0, +) == 5)
            let audit = try await gateway.sql.select().column("target").from(AdminStore.auditTable)
                .where("action", .equal, SQLBind("user.erased")).all()
            #expect(
                try audit.map { try $0.decode(column: "target", as: String.self) } == [
                    "system/drillquiz/subject/\(subject)"
                ])
            // Counted just after the receipt is saved, which the test may read first.
            try await gateway.waitFor("the erasure to be counted") {
                let metrics = MetricsEndpointTests.samples(try await gateway.call(.GET, "/metrics").text)
                return metrics[#"chatgw_erasures_total{result="completed"}"#] == 1
            }
        }
    }

    @Test("the user's chats are refused while the erasure runs, and after it they start clean")
    func chatsWaitForTheErasure() async throws {
        let dify = HeldDeletes()
        try await PersonalData.with(dependencies: GatewayDependencies(dify: dify)) { gateway in
            let user = "waiting-user"
            try await PersonalData.chat(gateway, "before", user: user)
            try await PersonalData.chat(gateway, "other user", user: "someone-else")
            let started = try await gateway.call(
                .POST, "/admin/v1/systems/drillquiz/users/\(user)/erasure", headers: PersonalData.admin)
            #expect(started.status == 202)
            let id = try #require(started.object["id"] as? String)
            try await gateway.waitFor("the erasure to reach Dify") { dify.deletesSeen > 0 }

            let again = try await gateway.call(
                .POST, "/admin/v1/systems/drillquiz/users/\(user)/erasure", headers: PersonalData.admin)
            #expect(again.status == 202)
            #expect(again.object["id"] as? String == id, "the running erasure, not a second one")
            let refused = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": user, "message": "during"])
            #expect(refused.status == 410)
            #expect(refused.detail?.contains("being erased") == true)
            let viaDify = try await gateway.call(
                .POST, "/dify/v1/chat-messages",
                headers: [("Authorization", "Bearer \(GatewayHarness.apiKey)"), ("X-Gateway-System", "drillquiz")],
                json: ["query": "during", "inputs": [:], "user": user, "response_mode": "blocking"])
            #expect(viaDify.status == 410, "\(viaDify.text)")
            try await PersonalData.chat(gateway, "others go on", user: "someone-else")

            dify.release()
            let receipt = try await PersonalData.finished(gateway, id)
            #expect(receipt["status"] as? String == "completed", "\(receipt)")
            try await PersonalData.chat(gateway, "after", user: user)
            let messages = try await gateway.messages(system: "drillquiz", user: user)
            #expect(messages.map(\.content).first == "after")
            #expect(messages.count == 2)
        }
    }

    @Test("a read of the running erasures begun before one ended here does not refuse its user again")
    func aStaleReadDoesNotBringAnEndedErasureBack() {
        let gate = ErasureGate(pseudonyms: Pseudonyms(secret: "a-secret-of-at-least-32-bytes-long!!"))
        let caller = CallerIdentity(systemID: "drillquiz", userID: "u1")
        let running = [(systemID: "drillquiz", subject: gate.pseudonyms.subject(systemID: "drillquiz", userID: "u1"))]
        gate.begin(systemID: running[0].systemID, subject: running[0].subject)
        let before = gate.readStarts()
        gate.end(systemID: running[0].systemID, subject: running[0].subject)
        gate.replaceRunningEverywhere(running, readFrom: before)
        #expect(!gate.isErasing(caller))
        // A read begun after the gate ended but before the receipt was saved as ended.
        let beforeSaving = gate.readStarts()
        gate.endSaved(systemID: running[0].systemID, subject: running[0].subject)
        gate.replaceRunningEverywhere(running, readFrom: beforeSaving)
        #expect(!gate.isErasing(caller))
        // A read begun after the end that lists it: another erasure of the same person, elsewhere.
        gate.replaceRunningEverywhere(running, readFrom: gate.readStarts())
        #expect(gate.isErasing(caller))
    }

    @Test("the user's running stream is stopped, and what arrived is erased with the rest")
    func runningStreamsAreStopped() async throws {
        let slow = FakeDifyOptions(apiKeys: [GatewayHarness.difyKey], tokenDelay: .milliseconds(100))
        try await PersonalData.with(fakeOptions: slow) { gateway in
            let stream = try await SSETestClient.open(
                gateway.baseURL + "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "streaming-user", "message": "/tokens 600", "stream": true])
            while let event = try await stream.next(), event.name != "delta" {}
            let started = ContinuousClock.now
            let receipt = try await PersonalData.erase(gateway, user: "streaming-user")
            #expect(receipt["status"] as? String == "completed", "\(receipt)")
            #expect(ContinuousClock.now - started < .seconds(30), "the erasure waited for the whole answer")
            let rest = try await stream.readAll()
            #expect(rest.last?.name == "done")
            #expect(rest.last?.data["stopped"] as? Bool == true)
            #expect(try await gateway.messages(system: "drillquiz", user: "streaming-user").isEmpty)
        }
    }

    @Test("a conversation on legal hold stops its user's erasure; the hold is audited")
    func legalHoldBlocksErasure() async throws {
        try await PersonalData.with { gateway in
            let conversation = try await PersonalData.chat(gateway, "keep me", user: "held-user")
            let path = "/admin/v1/conversations/\(conversation)/legal-hold"
            let placed = try await gateway.call(.PUT, path, headers: PersonalData.admin, json: ["reason": "case 12"])
            #expect(placed.status == 200)
            #expect(placed.object["legal_hold"] as? Bool == true)
            #expect(placed.object["reason"] as? String == "case 12")
            let refused = try await gateway.call(
                .POST, "/admin/v1/systems/drillquiz/users/held-user/erasure", headers: PersonalData.admin)
            #expect(refused.status == 409)
            #expect(refused.detail?.contains(conversation) == true)
            let released = try await gateway.call(.DELETE, path, headers: PersonalData.admin)
            #expect(released.object["legal_hold"] as? Bool == false)
            #expect(
                try await gateway.call(.GET, path, headers: PersonalData.admin).object["legal_hold"] as? Bool == false)
            #expect(
                try await gateway.call(.PUT, "/admin/v1/conversations/nope/legal-hold", headers: PersonalData.admin)
                    .status == 404)
            let actions = try await gateway.sql.select().column("action").from(AdminStore.auditTable).all()
                .map { try $0.decode(column: "action", as: String.self) }
            #expect(actions.filter { $0.hasPrefix("conversation.legal_hold") }.count == 2)
            let receipt = try await PersonalData.erase(gateway, user: "held-user")
            #expect(receipt["status"] as? String == "completed")
        }
    }

    @Test("a server key may erase its own systems' users only; other credentials are refused")
    func serverKeysActForTheirSystems() async throws {
        try await PersonalData.with { gateway in
            try await PersonalData.chat(gateway, "hi", user: "keyed-user")
            func key(for system: String) async throws -> String {
                let created = try await gateway.call(
                    .POST, "/admin/v1/keys", headers: PersonalData.admin,
                    json: ["name": "backend \(system)", "systems": [system], "kind": "server"])
                return try #require(created.object["key"] as? String)
            }
            let other = try await key(for: "cointutor")
            let own = try await key(for: "drillquiz")
            let path = "/admin/v1/systems/drillquiz/users/keyed-user/erasure"
            #expect(try await gateway.call(.POST, path, headers: [("X-API-Key", other)]).status == 403)
            #expect(try await gateway.call(.POST, path).status == 401)
            #expect(try await gateway.call(.POST, path, headers: [("X-Admin-Key", "wrong")]).status == 401)
            let receipt = try await PersonalData.erase(gateway, user: "keyed-user", headers: [("X-API-Key", own)])
            #expect(receipt["status"] as? String == "completed")
            #expect((receipt["requested_by"] as? String)?.hasPrefix("key:") == true)
            let id = try #require(receipt["id"] as? String)
            #expect(
                try await gateway.call(.GET, "/admin/v1/erasures/\(id)", headers: [("X-API-Key", other)]).status == 404)
            let listed = try await gateway.call(
                .GET, "/admin/v1/erasures?system_id=drillquiz", headers: PersonalData.admin)
            #expect((listed.object["data"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
        }
    }

    @Test("Dify's 429 and 5xx are retried with back-off, and the receipt counts the retries")
    func difyErrorsAreRetried() async throws {
        let dify = HeldDeletes(failingFirst: 2)
        dify.release()
        try await PersonalData.with(dependencies: GatewayDependencies(dify: dify)) { gateway in
            try await PersonalData.chat(gateway, "one", user: "retried-user")
            try await PersonalData.chat(gateway, "two", user: "retried-user")
            let receipt = try await PersonalData.erase(gateway, user: "retried-user")
            #expect(receipt["status"] as? String == "completed", "\(receipt)")
            #expect(receipt["retries"] as? Int == 2)
            #expect(receipt["dify_conversations_deleted"] as? Int == 2)
            #expect(try await PersonalData.difyConversations(gateway, user: "retried-user") == 0)
        }
    }

    /// The bystander's rows, which an erasure of someone else must not move.
    static func counts(_ gateway: GatewayHarness, user: String) async throws -> [Int] {
        var counts: [Int] = []
        for table in [StoredMessage.schema, StoredConversation.schema, ChatUser.schema, UsageRollup.usersTable] {
            counts.append(
                try await gateway.sql.select().column("user_id").from(table).where("user_id", .equal, SQLBind(user))
                    .all().count)
        }
        return counts
    }

    /// Whether `needle` is in the SQLite file or its WAL, or in any row on PostgreSQL.
    static func holdsAnywhere(_ gateway: GatewayHarness, _ needle: String) async throws -> Bool {
        guard case .sqlite(let path) = gateway.settings.database else {
            return try await PersonalData.rowsHolding(needle, in: gateway.sql) > 0
        }
        return try PersonalData.file(path, contains: needle) || PersonalData.file(path + "-wal", contains: needle)
    }
}

/// The live client to the fake Dify, whose conversation deletes wait until `release` (an erasure stays running),
/// the first `failingFirst` of them answered 429 and 503 in turn.
final class HeldDeletes: DifyClient {
    private let upstream = HTTPDifyClient(http: HTTPClient.shared, timeout: .seconds(30))
    private let state = NIOLockedValueBox((seen: 0, released: false))
    private let failingFirst: Int

    init(failingFirst: Int = 0) { self.failingFirst = failingFirst }

    var deletesSeen: Int { state.withLockedValue { $0.seen } }
    func release() { state.withLockedValue { $0.released = true } }

    func forward(_ request: DifyPassthroughRequest, to target: DifyTarget) async throws -> DifyPassthroughResponse {
        if request.method == .DELETE {
            let seen = state.withLockedValue { state in
                state.seen += 1
                return state.seen
            }
            if seen <= failingFirst {
                throw DifyError.upstream(status: seen % 2 == 1 ? 429 : 503, code: "busy", message: "try again")
            }
            while !state.withLockedValue({ $0.released }) { try? await Task.sleep(for: .milliseconds(20)) }
        }
        return try await upstream.forward(request, to: target)
    }

    func streamMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyEventStream {
        try await upstream.streamMessage(request, to: target)
    }
}

@Suite("Erasure and webhooks", .hangLimit)
struct ErasureWebhookTests {
    @Test("user.erased names the person only by their pseudonym, and their events waiting in the outbox are gone")
    func userErasedIsDelivered() async throws {
        try await Hooks.with { gateway, receiver in
            _ = try await Hooks.endpoint(gateway, url: receiver.url, events: ["user.erased"], includeContent: true)
            _ = try await Hooks.chat(gateway, "private words", user: "erased-hook-user")
            let receipt = try await PersonalData.erase(gateway, user: "erased-hook-user", headers: Hooks.admin)
            #expect(receipt["status"] as? String == "completed", "\(receipt)")
            let erased = try #require(try await Hooks.awaitDeliveries(receiver, of: "user.erased", gateway).first)
            #expect(erased.data["subject"] as? String == receipt["subject"] as? String)
            #expect(erased.data["erasure_id"] as? String == receipt["id"] as? String)
            #expect(!erased.body.contains("erased-hook-user"))
            let rows = try await gateway.sql.select().column("data").from(WebhookTables.events).all()
                .map { try $0.decode(column: "data", as: String.self) }
            #expect(!rows.contains { $0.contains("erased-hook-user") })
        }
    }
}
