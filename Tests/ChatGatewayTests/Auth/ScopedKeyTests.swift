import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// `CHAT_GATEWAY_API_KEY=drillquiz:KEY`: a key that acts only within its systems, on every endpoint.
@Suite("Scoped API keys", .hangLimit)
struct ScopedKeyTests {
    static let drillquizKey = "dq-key-0123456789"
    static let scopedHeader = [("X-API-Key", drillquizKey)]
    static let outsideDetail = "This API key is limited to system_id drillquiz: it may not act for other systems"

    /// A plain key (all systems) and a key for drillquiz only.
    static func withScopedGateway<T>(_ body: (GatewayHarness) async throws -> T) async throws -> T {
        try await GatewayHarness.with(
            adjust: {
                $0.apiKeys = [
                    APIKeyEntry(key: GatewayHarness.apiKey),
                    APIKeyEntry(key: drillquizKey, scope: .systems(["drillquiz"])),
                ]
            }, body)
    }

    /// One conversation for drillquiz/alice and one for cointutor/carol, through the chat as a client backend sends it.
    static func chatInBothSystems(_ gateway: GatewayHarness) async throws -> (drillquiz: String, cointutor: String) {
        var ids: [String] = []
        for (system, user) in [("drillquiz", "alice"), ("cointutor", "carol")] {
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": system, "user_id": user, "message": "hello from \(system)"])
            #expect(reply.status == 200)
            ids.append(try #require(reply.object["conversation_id"] as? String))
        }
        return (ids[0], ids[1])
    }

    static let otherSystem = "system_id=cointutor&user_id=carol"
    static let someID = "6f1c1a52-2f0b-4a59-9d55-3a3c3e4a5b6c"

    /// Every per-user endpoint, asked for cointutor with the drillquiz key.
    static let crossSystemCalls: [(HTTPMethod, String, [String: any Sendable]?)] = [
        (.POST, "/v1/chat", ["system_id": "cointutor", "user_id": "carol", "message": "hi"]),
        (.POST, "/v1/chat", ["system_id": "cointutor", "user_id": "carol", "message": "hi", "stream": true]),
        (.GET, "/v1/conversations?\(otherSystem)", nil),
        (.GET, "/v1/conversations/\(someID)/messages?\(otherSystem)", nil),
        (.DELETE, "/v1/conversations/\(someID)?\(otherSystem)", nil),
        (.POST, "/v1/conversations/\(someID)/name", ["system_id": "cointutor", "user_id": "carol", "name": "x"]),
        (.POST, "/v1/messages/\(someID)/feedbacks", ["system_id": "cointutor", "user_id": "carol", "rating": "like"]),
        (.GET, "/v1/messages/\(someID)/suggested?\(otherSystem)", nil),
        (.POST, "/v1/chat/task-1/stop", ["system_id": "cointutor", "user_id": "carol"]),
        (.GET, "/v1/chat-token?\(otherSystem)", nil),
        (.GET, "/v1/cache/conversations?system_id=cointutor", nil),
        (.GET, "/v1/cache/export?system_id=cointutor", nil),
    ]

    @Test(arguments: crossSystemCalls.indices)
    func refusesEveryOtherSystem(index: Int) async throws {
        let (method, path, json) = Self.crossSystemCalls[index]
        try await Self.withScopedGateway { gateway in
            // when
            let reply = try await gateway.call(method, path, headers: Self.scopedHeader, json: json)
            // then
            #expect(reply.status == 403, "\(method) \(path)")
            #expect(reply.detail == Self.outsideDetail, "\(method) \(path)")
        }
    }

    @Test func actsWithinItsSystem() async throws {
        try await Self.withScopedGateway { gateway in
            // when
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: Self.scopedHeader,
                json: ["system_id": "drillquiz", "user_id": "alice", "message": "hi"])
            let list = try await gateway.call(
                .GET, "/v1/conversations?system_id=drillquiz&user_id=alice", headers: Self.scopedHeader)
            let token = try await gateway.call(
                .GET, "/v1/chat-token?system_id=drillquiz&user_id=alice", headers: Self.scopedHeader)
            // then
            #expect(chat.status == 200)
            #expect(list.array.count == 1)
            #expect(token.status == 200)
            #expect(token.object["user_id"] as? String == "alice")
        }
    }

    @Test func cacheListingShowsOnlyItsSystems() async throws {
        try await Self.withScopedGateway { gateway in
            // given
            _ = try await Self.chatInBothSystems(gateway)
            // when
            let scoped = try await gateway.call(.GET, "/v1/cache/conversations", headers: Self.scopedHeader)
            let filtered = try await gateway.call(
                .GET, "/v1/cache/conversations?system_id=drillquiz&q=hello", headers: Self.scopedHeader)
            let plain = try await gateway.call(.GET, "/v1/cache/conversations", headers: GatewayHarness.keyHeader)
            // then
            #expect(scoped.status == 200)
            #expect(scoped.array.map { $0["system_id"] as? String } == ["drillquiz"])
            #expect(scoped.headers.first(name: "X-Total-Count") == "1")
            #expect(filtered.array.count == 1)
            #expect(Set(plain.array.compactMap { $0["system_id"] as? String }) == ["drillquiz", "cointutor"])
        }
    }

    @Test func cacheMessagesOfAnotherSystemAreNotFound() async throws {
        try await Self.withScopedGateway { gateway in
            // given
            let ids = try await Self.chatInBothSystems(gateway)
            // when
            let own = try await gateway.call(
                .GET, "/v1/cache/conversations/\(ids.drillquiz)/messages", headers: Self.scopedHeader)
            let other = try await gateway.call(
                .GET, "/v1/cache/conversations/\(ids.cointutor)/messages", headers: Self.scopedHeader)
            // then
            #expect(own.status == 200)
            #expect(own.array.count == 2)
            #expect(other.status == 404)
            #expect(other.detail == "Conversation not found")
        }
    }

    @Test func exportHoldsOnlyItsSystems() async throws {
        try await Self.withScopedGateway { gateway in
            // given
            _ = try await Self.chatInBothSystems(gateway)
            // when
            let export = try await gateway.call(.GET, "/v1/cache/export?format=jsonl", headers: Self.scopedHeader)
            // then
            #expect(export.status == 200)
            let rows = export.text.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            #expect(rows.count == 2)
            #expect(Set(rows.compactMap { $0["system_id"] as? String }) == ["drillquiz"])
            #expect(!export.text.contains("cointutor"))
        }
    }

    @Test func syncNeedsAKeyForAllSystems() async throws {
        try await Self.withScopedGateway { gateway in
            // when
            let scoped = try await gateway.call(.POST, "/v1/sync", headers: Self.scopedHeader)
            let plain = try await gateway.call(.POST, "/v1/sync", headers: GatewayHarness.keyHeader)
            // then
            #expect(scoped.status == 403)
            #expect(
                scoped.detail
                    == "This API key is limited to system_id drillquiz: the history sync and the history page need a key for all systems"
            )
            #expect(plain.status == 200)
        }
    }

    @Test func historyPageSignInNeedsAKeyForAllSystems() async throws {
        try await Self.withScopedGateway { gateway in
            // when
            let scoped = try await HistoryPageEndpointTests.signIn(gateway, key: Self.drillquizKey)
            let link = try await HistoryPageEndpointTests.call(gateway, .GET, "/cache?api_key=\(Self.drillquizKey)")
            let plain = try await HistoryPageEndpointTests.signIn(gateway)
            // then
            #expect(scoped.status == 403)
            #expect(HistoryPageEndpointTests.sessionCookie(scoped) == nil)
            #expect(scoped.text.contains("The history page needs a key for all systems."))
            #expect(link.status == 403)
            #expect(plain.status == 303)
        }
    }

    @Test func allowedSystemIDsStillApply() async throws {
        try await GatewayHarness.with(adjust: {
            $0.apiKeys = [APIKeyEntry(key: Self.drillquizKey, scope: .systems(["drillquiz", "cointutor"]))]
            $0.allowedSystemIDs = ["cointutor"]
        }) { gateway in
            // when
            let reply = try await gateway.call(
                .GET, "/v1/conversations?system_id=drillquiz&user_id=alice", headers: Self.scopedHeader)
            // then
            #expect(reply.status == 403)
            #expect(reply.detail == "system_id not allowed")
        }
    }

    @Test func aKeyForTwoSystemsServesBoth() async throws {
        try await GatewayHarness.with(adjust: {
            $0.apiKeys = [APIKeyEntry(key: Self.drillquizKey, scope: .systems(["drillquiz", "cointutor"]))]
        }) { gateway in
            for system in ["drillquiz", "cointutor"] {
                let reply = try await gateway.call(
                    .GET, "/v1/conversations?system_id=\(system)&user_id=alice", headers: Self.scopedHeader)
                #expect(reply.status == 200)
            }
            let other = try await gateway.call(
                .GET, "/v1/conversations?system_id=other&user_id=alice", headers: Self.scopedHeader)
            #expect(
                other.detail
                    == "This API key is limited to system_id cointutor, drillquiz: it may not act for other systems")
        }
    }

    @Test func keysAreComparedWholeWhateverTheirScope() {
        let verifier = APIKeyVerifier(entries: [
            APIKeyEntry(key: "alpha"), APIKeyEntry(key: "beta", scope: .systems(["drillquiz"])),
        ])
        #expect(verifier.scope(of: "alpha") == .allSystems)
        #expect(verifier.scope(of: "beta") == .systems(["drillquiz"]))
        #expect(verifier.scope(of: "bet") == nil)
        #expect(verifier.scope(of: "drillquiz:beta") == nil)
    }
}
