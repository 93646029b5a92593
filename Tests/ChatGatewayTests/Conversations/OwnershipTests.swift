import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// Ownership holds whatever the spelling: ids in upper case are the same ids, canonically equal user ids are one
/// user, and a chat token reaches only what the gateway stored as its own.
@Suite("Ownership across spellings", .hangLimit)
struct OwnershipTests {
    static func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }

    /// Bob's conversation and message, through the gateway.
    static func bobsTurn(
        _ gateway: GatewayHarness, system: String = "drillquiz", user: String = "bob"
    ) async throws
        -> (conversationID: String, messageID: String)
    {
        let reply = try await gateway.call(
            .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
            json: ["system_id": system, "user_id": user, "message": "bob's secret"])
        #expect(reply.status == 200)
        return (
            try #require(reply.object["conversation_id"] as? String),
            try #require(reply.object["message_id"] as? String)
        )
    }

    /// Every per-conversation and per-message call Alice can make with an id.
    static func calls(conversation: String, message: String) -> [(HTTPMethod, String, [String: Any]?)] {
        [
            (.GET, "/v1/conversations/\(conversation)/messages", nil),
            (.POST, "/v1/conversations/\(conversation)/name", ["name": "mine now"]),
            (.POST, "/v1/messages/\(message)/feedbacks", ["rating": "dislike"]),
            (.GET, "/v1/messages/\(message)/suggested", nil),
            (.GET, "/v1/messages/\(message)_assistant/suggested", nil),
            (.POST, "/v1/chat", ["message": "hi", "conversation_id": conversation]),
            (.DELETE, "/v1/conversations/\(conversation)", nil),
        ]
    }

    @Test func upperCaseIdsOfOthersAreNotFound() async throws {
        try await GatewayHarness.with { gateway in
            let bob = try await Self.bobsTurn(gateway)
            let carol = try await Self.bobsTurn(gateway, system: "cointutor", user: "carol")
            let alice = try await gateway.token(system: "drillquiz", user: "alice")
            for target in [bob, carol] {
                for (method, path, json) in Self.calls(
                    conversation: target.conversationID.uppercased(), message: target.messageID.uppercased())
                {
                    let reply = try await gateway.call(method, path, headers: Self.bearer(alice), json: json)
                    #expect(reply.status == 404, "\(method) \(path): \(reply.status) \(reply.text)")
                }
            }
            // Nothing reached Dify under Alice's name, and Bob still has his conversation.
            let bobs = try await gateway.call(
                .GET, "/v1/conversations?system_id=drillquiz&user_id=bob", headers: GatewayHarness.keyHeader)
            #expect(bobs.array.map { $0["id"] as? String } == [bob.conversationID])
            let alices = try await gateway.call(.GET, "/v1/conversations", headers: Self.bearer(alice))
            #expect(alices.array.isEmpty)
        }
    }

    @Test func ownIdsWorkInAnyCase() async throws {
        try await GatewayHarness.with { gateway in
            let bob = try await Self.bobsTurn(gateway)
            let token = try await gateway.token(system: "drillquiz", user: "bob")
            let messages = try await gateway.call(
                .GET, "/v1/conversations/\(bob.conversationID.uppercased())/messages", headers: Self.bearer(token))
            #expect(messages.status == 200)
            let feedback = try await gateway.call(
                .POST, "/v1/messages/\(bob.messageID.uppercased())/feedbacks", headers: Self.bearer(token),
                json: ["rating": "like"])
            #expect(feedback.status == 200, "\(feedback.text)")
        }
    }

    @Test func idsTheGatewayNeverStoredAreNotFoundForAChatToken() async throws {
        try await GatewayHarness.with { gateway in
            let alice = try await gateway.token(system: "drillquiz", user: "alice")
            let unknown = UUID().uuidString.lowercased()
            for (method, path, json) in Self.calls(conversation: unknown, message: unknown) {
                let reply = try await gateway.call(method, path, headers: Self.bearer(alice), json: json)
                #expect(reply.status == 404, "\(method) \(path): \(reply.status) \(reply.text)")
            }
            let stop = try await gateway.call(
                .POST, "/v1/chat/\(unknown.uppercased())/stop", headers: Self.bearer(alice))
            #expect(stop.status == 404)
        }
    }

    @Test func canonicallyEqualUserIdsAreOneUser() async throws {
        try await GatewayHarness.with { gateway in
            let decomposed = "jose\u{301}"
            let composed = "jos\u{E9}"
            let first = try await Self.bobsTurn(gateway, user: decomposed)
            let stored = try await gateway.messages(system: "drillquiz", user: composed)
            #expect(stored.count == 2)
            #expect(stored.allSatisfy { Array($0.userID.utf8) == Array(composed.utf8) })
            // Dify knows one user too: the composed spelling finds the conversation the decomposed one started.
            let listing = try await gateway.call(
                .GET, "/v1/conversations?system_id=drillquiz&user_id=\(composed)", headers: GatewayHarness.keyHeader)
            #expect(listing.array.map { $0["id"] as? String } == [first.conversationID])
            let token = try await gateway.token(system: "drillquiz", user: decomposed)
            let messages = try await gateway.call(
                .GET, "/v1/conversations/\(first.conversationID)/messages", headers: Self.bearer(token))
            #expect(messages.status == 200)
        }
    }

    @Test(arguments: ["a\u{202E}b", "a\u{200B}b", "a\u{2028}b", "a\u{2029}b", "a\u{FEFF}", "   ", "\u{3000}"])
    func invisibleAndBlankUserIdsAreRefused(userID: String) async throws {
        try await GatewayHarness.with { gateway in
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": userID, "message": "hi"])
            #expect(chat.status == 422, "\(userID.unicodeScalars.map { String($0.value, radix: 16) })")
            let token = try await gateway.token(system: "drillquiz", user: userID)
            #expect(try await gateway.call(.GET, "/v1/conversations", headers: Self.bearer(token)).status == 422)
            let issued = try await gateway.call(
                .GET,
                "/v1/chat-token?system_id=drillquiz&user_id=\(userID.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)",
                headers: GatewayHarness.keyHeader)
            #expect(issued.status == 422, "\(issued.text)")
        }
    }
}
