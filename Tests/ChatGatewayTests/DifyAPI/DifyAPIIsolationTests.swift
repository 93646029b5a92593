import FakeDify
import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// A key of one system reaches nothing of another's through `/dify/v1`, not even under the same user id, and its
/// attempts never reach Dify.
@Suite("Dify API: one system's key", .hangLimit)
struct DifyAPIIsolationTests {
    @Test func aDrillquizKeyCannotReadContinueRenameStopOrDeleteACointutorConversation() async throws {
        try await DifyAPIHarness.with { gateway in
            // given: carol's cointutor conversation, and a cointutor stream of hers still running
            let carols = try await DifyAPIHarness.chat(gateway, key: DifyAPIHarness.cointutorKey, user: "carol")
            let conversation = try #require(carols.object["conversation_id"] as? String)
            let message = try #require(carols.object["message_id"] as? String)
            await gateway.fake.store.setOptions(
                FakeDifyOptions(apiKeys: [GatewayHarness.difyKey], tokenDelay: .milliseconds(100)))
            let running = try await SSETestClient.open(
                gateway.baseURL + "/dify/v1/chat-messages", headers: DifyAPIHarness.bearer(DifyAPIHarness.cointutorKey),
                json: DifyAPIHarness.streamBody(query: "/tokens 8", user: "carol"))
            let first = try #require(try await running.next())
            let task = try #require(first.data["task_id"] as? String)
            let reachedDify = await gateway.fake.store.requestCount

            // when: a drillquiz key tries everything, as carol and as its own user
            let key = DifyAPIHarness.bearer(DifyAPIHarness.drillquizKey)
            for user in ["carol", "mallory"] {
                let attempts: [(HTTPMethod, String, [String: Any]?)] = [
                    (.GET, "/dify/v1/messages?conversation_id=\(conversation)&user=\(user)", nil),
                    (
                        .POST, "/dify/v1/chat-messages",
                        ["query": "mine now", "inputs": [:], "user": user, "conversation_id": conversation]
                    ),
                    (.POST, "/dify/v1/conversations/\(conversation)/name", ["name": "taken", "user": user]),
                    (.POST, "/dify/v1/conversations/\(conversation)/name", ["auto_generate": true, "user": user]),
                    (.POST, "/dify/v1/messages/\(message)/feedbacks", ["rating": "dislike", "user": user]),
                    (.GET, "/dify/v1/messages/\(message)/suggested?user=\(user)", nil),
                    (.POST, "/dify/v1/text-to-audio", ["message_id": message, "user": user]),
                    (.DELETE, "/dify/v1/conversations/\(conversation)", ["user": user]),
                ]
                for (method, path, json) in attempts {
                    let reply = try await gateway.call(method, path, headers: key, json: json)
                    #expect(
                        DifyAPIHarness.isDifyError(reply, status: 404, code: "not_found"),
                        "\(method) \(path) as \(user): \(reply.status) \(reply.text)")
                }
                // Dify answers a stop of any task with success; so does the gateway, asking Dify nothing.
                let stop = try await gateway.call(
                    .POST, "/dify/v1/chat-messages/\(task)/stop", headers: key, json: ["user": user])
                #expect(stop.status == 200 && stop.object["result"] as? String == "success")
                // Naming the other system does not help.
                let named = try await gateway.call(
                    .GET, "/dify/v1/messages?conversation_id=\(conversation)&user=\(user)",
                    headers: DifyAPIHarness.bearer(DifyAPIHarness.drillquizKey, system: "cointutor"))
                #expect(DifyAPIHarness.isDifyError(named, status: 403, code: "forbidden"), "\(named.text)")
            }

            // then: none of it reached Dify, and carol's conversation and stream are untouched
            #expect(await gateway.fake.store.requestCount == reachedDify)
            let rest = try await running.readAll()
            #expect(rest.map { $0.data["event"] as? String }.last == "message_end")
            #expect(([first] + rest).filter { $0.data["event"] as? String == "message" }.count == 8)
            #expect(await gateway.fake.store.messageCount(conversationID: conversation) == 1)
            #expect(try await gateway.messages(system: "drillquiz", user: "carol").isEmpty)
            #expect(try await gateway.messages(system: "drillquiz", user: "mallory").isEmpty)
            let carolsList = try await gateway.call(
                .GET, "/dify/v1/conversations?user=carol", headers: DifyAPIHarness.bearer(DifyAPIHarness.cointutorKey))
            let names = (carolsList.object["data"] as? [[String: Any]] ?? []).map { $0["name"] as? String }
            #expect(names.count == 2 && !names.contains("taken"))
        }
    }
}
