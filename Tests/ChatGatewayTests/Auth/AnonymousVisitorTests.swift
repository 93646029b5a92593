import Foundation
import Testing

@testable import ChatGateway

/// `GET /v1/chat-token?user_id=anonymous`: every logged-out visitor gets an id of their own, not one shared history.
@Suite("Anonymous visitors", .hangLimit)
struct AnonymousVisitorTests {
    static func issue(_ gateway: GatewayHarness, user: String) async throws -> GatewayHarness.Reply {
        try await gateway.call(
            .GET, "/v1/chat-token?system_id=drillquiz&user_id=\(user)", headers: GatewayHarness.keyHeader)
    }

    static func bearer(_ reply: GatewayHarness.Reply) throws -> [(String, String)] {
        [("Authorization", "Bearer \(try #require(reply.object["token"] as? String))")]
    }

    @Test func visitorIDsAreFreshAndWellFormed() {
        let ids = (0..<1000).map { _ in AnonymousVisitor.newID() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.wholeMatch(of: /anonymous-[a-z2-7]{26}/) != nil })
        #expect(ids.allSatisfy(AnonymousVisitor.isVisitorID))
    }

    @Test func twoVisitorsGetTwoIDsAndSeeOnlyTheirOwnConversations() async throws {
        try await GatewayHarness.with { gateway in
            // given
            let first = try await Self.issue(gateway, user: "anonymous")
            let second = try await Self.issue(gateway, user: "anonymous")
            let firstID = try #require(first.object["user_id"] as? String)
            let secondID = try #require(second.object["user_id"] as? String)
            // when
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: try Self.bearer(first), json: ["message": "my secret question"])
            let firstList = try await gateway.call(.GET, "/v1/conversations", headers: try Self.bearer(first))
            let secondList = try await gateway.call(.GET, "/v1/conversations", headers: try Self.bearer(second))
            // then
            #expect(firstID != secondID)
            #expect(firstID != "anonymous" && secondID != "anonymous")
            #expect(chat.status == 200)
            #expect(firstList.array.count == 1)
            #expect(secondList.status == 200)
            #expect(secondList.array.isEmpty)
            #expect(try await gateway.messages(system: "drillquiz", user: "anonymous").isEmpty)
        }
    }

    @Test func renewalKeepsTheVisitorAndTheirHistory() async throws {
        try await GatewayHarness.with { gateway in
            // given
            let first = try await Self.issue(gateway, user: "anonymous")
            let visitor = try #require(first.object["user_id"] as? String)
            _ = try await gateway.call(
                .POST, "/v1/chat", headers: try Self.bearer(first), json: ["message": "remember me"])
            // when
            let renewed = try await Self.issue(gateway, user: visitor)
            let list = try await gateway.call(.GET, "/v1/conversations", headers: try Self.bearer(renewed))
            // then
            #expect(renewed.status == 200)
            #expect(renewed.object["user_id"] as? String == visitor)
            #expect(list.array.count == 1)
        }
    }

    @Test(arguments: [
        "anonymous-", "anonymous-abc", "anonymous-ABCDEFGHIJKLMNOPQRSTUVWXYZ", "anonymous-abcdefghijklmnopqrstuvwxyz0",
        "anonymous-abcdefghijklmnopqrstuvwxyz2",
    ])
    func otherAnonymousShapesAreRefused(user: String) async throws {
        try await GatewayHarness.with { gateway in
            // when
            let reply = try await Self.issue(gateway, user: user)
            // then
            #expect(reply.status == 422)
            #expect(reply.detail?.hasPrefix("user_id \"anonymous-…\" must be a visitor id this gateway issued") == true)
        }
    }

    @Test func ordinaryUsersKeepTheirID() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await Self.issue(gateway, user: "anonymously")
            #expect(reply.object["user_id"] as? String == "anonymously")
        }
    }

    @Test func aBackendTokenForTheSharedAnonymousUserStillWorks() async throws {
        try await GatewayHarness.with { gateway in
            // given: a client backend mints its own token for DrillQuiz's shared logged-out user
            let token = try await gateway.token(system: "drillquiz", user: "anonymous")
            // when
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: [("Authorization", "Bearer \(token)")], json: ["message": "hi"])
            let withKey = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "anonymous", "message": "hi"])
            // then
            #expect(chat.status == 200)
            #expect(withKey.status == 200)
            #expect(try await gateway.messages(system: "drillquiz", user: "anonymous").count == 4)
        }
    }
}
