import FakeDify
import Fluent
import Foundation
import Testing

@testable import ChatGateway

@Suite("Cache API: every system's stored history", .hangLimit)
struct CacheEndpointTests {
    /// Two systems, three users, conversations on known days: written the way the sync writes them.
    private static func fill(_ gateway: GatewayHarness) async throws {
        let users = [("drillquiz", "alice"), ("drillquiz", "bob"), ("cointutor", "carol")]
        for (index, (system, user)) in users.enumerated() {
            let known = HistorySync.KnownUser(systemID: system, userID: user, difyUser: "\(system)_\(user)")
            for day in 1...4 {
                let id = "conv-\(system)-\(user)-\(day)"
                let created = Int(try CacheFilter.day("2026-03-0\(day)", field: "").timeIntervalSince1970) + index * 60
                let name = day == 2 ? "Photosynthesis \(user)" : "Chat \(day)"
                let conversation = HistorySync.conversationWrite(
                    DifyConversation(id: id, name: name, createdAt: created, updatedAt: created), user: known,
                    updatedAt: nil, at: Date())
                var messages: [MessageWrite] = []
                for turn in 0..<3 {
                    let stamp = Date(timeIntervalSince1970: TimeInterval(created + turn))
                    let text =
                        day == 3 && turn == 1 ? "The MITOCHONDRIA, said \(user)" : "turn \(turn), \"quoted\", =SUM(A1)"
                    for (role, content) in [("user", text), ("assistant", "answer \(turn)")] {
                        messages.append(
                            HistorySync.messageWrite(
                                id: "\(id)-m\(turn)_\(role)", conversationID: id, user: known, role: role,
                                content: content,
                                position: turn, createdAt: stamp, at: Date()))
                    }
                }
                try await HistorySync.store(conversation, messages: messages, on: gateway.app.db)
            }
        }
    }

    private static func listing(_ gateway: GatewayHarness, _ query: String) async throws -> GatewayHarness.Reply {
        try await gateway.call(.GET, "/v1/cache/conversations" + query, headers: GatewayHarness.keyHeader)
    }

    @Test func filtersBySystemUserAndDaysNewestFirst() async throws {
        try await GatewayHarness.with { gateway in
            try await Self.fill(gateway)
            let all = try await Self.listing(gateway, "")
            #expect(all.status == 200)
            #expect(all.array.count == 12)
            #expect(all.headers.first(name: "X-Total-Count") == "12")
            let days = all.array.compactMap { $0["created_at"] as? String }
            #expect(days == days.sorted(by: >))
            #expect(try await Self.listing(gateway, "?system_id=drillquiz").array.count == 8)
            #expect(try await Self.listing(gateway, "?system_id=drillquiz&user_id=bob").array.count == 4)
            let window = try await Self.listing(gateway, "?from_date=2026-03-02&to_date=2026-03-03")
            #expect(window.array.count == 6)  // to_date is inclusive
            #expect(Set(window.array.compactMap { ($0["conversation_id"] as? String)?.suffix(1) }) == ["2", "3"])
            let first = try #require(all.array.first)
            #expect(
                Set(first.keys).isSuperset(of: [
                    "conversation_id", "system_id", "user_id", "name", "created_at", "synced_at",
                ]))
        }
    }

    @Test func searchesNamesAndMessageTextCaseInsensitively() async throws {
        try await GatewayHarness.with { gateway in
            try await Self.fill(gateway)
            let byName = try await Self.listing(gateway, "?q=photosynthesis")
            #expect(byName.array.count == 3)
            let byText = try await Self.listing(gateway, "?q=mitochondria&system_id=cointutor")
            #expect(byText.array.map { $0["conversation_id"] as? String } == ["conv-cointutor-carol-3"])
            #expect(try await Self.listing(gateway, "?q=%25").array.isEmpty)  // % is a character, not a wildcard
        }
    }

    @Test func cursorPagesWalkEveryRowOnce() async throws {
        try await GatewayHarness.with { gateway in
            try await Self.fill(gateway)
            var seen: [String] = []
            var query = "?limit=5"
            var pages = 0
            while true {
                let page = try await Self.listing(gateway, query)
                #expect(page.status == 200)
                #expect(page.headers.first(name: "X-Total-Count") == "12")
                seen += page.array.compactMap { $0["conversation_id"] as? String }
                pages += 1
                guard let next = page.headers.first(name: "X-Next-Cursor") else { break }
                #expect(page.headers.first(name: "Link")?.contains("rel=\"next\"") == true)
                query = "?limit=5&cursor=\(next)"
            }
            #expect(pages == 3)
            #expect(seen.count == 12 && Set(seen).count == 12)
            #expect(seen == (try await Self.listing(gateway, "")).array.compactMap { $0["conversation_id"] as? String })
        }
    }

    @Test(arguments: [
        "?from_date=2026-3-1", "?to_date=yesterday", "?from_date=2026-02-30",
        "?from_date=2026-03-05&to_date=2026-03-01",
        "?limit=0", "?limit=501", "?cursor=%21%21",
    ])
    func badParametersAre422(query: String) async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await Self.listing(gateway, query)
            #expect(reply.status == 422)
            #expect(reply.detail != nil)
        }
    }

    @Test func messagesComeOldestFirst() async throws {
        try await GatewayHarness.with { gateway in
            try await Self.fill(gateway)
            let reply = try await gateway.call(
                .GET, "/v1/cache/conversations/conv-drillquiz-bob-1/messages", headers: GatewayHarness.keyHeader)
            #expect(reply.status == 200)
            #expect(
                reply.array.compactMap { $0["message_id"] as? String } == [
                    "conv-drillquiz-bob-1-m0_user", "conv-drillquiz-bob-1-m0_assistant", "conv-drillquiz-bob-1-m1_user",
                    "conv-drillquiz-bob-1-m1_assistant", "conv-drillquiz-bob-1-m2_user",
                    "conv-drillquiz-bob-1-m2_assistant",
                ])
            #expect(reply.array.first?["role"] as? String == "user")
            let missing = try await gateway.call(
                .GET, "/v1/cache/conversations/nope/messages", headers: GatewayHarness.keyHeader)
            #expect(missing.status == 404)
        }
    }

    @Test func exportsCSVAndJSONLines() async throws {
        try await GatewayHarness.with { gateway in
            try await Self.fill(gateway)
            let csv = try await gateway.call(
                .GET, "/v1/cache/export?system_id=drillquiz&user_id=alice", headers: GatewayHarness.keyHeader)
            #expect(csv.status == 200)
            #expect(csv.headers.first(name: "Content-Type")?.hasPrefix("text/csv") == true)
            #expect(csv.headers.first(name: "Content-Disposition")?.contains("attachment") == true)
            let lines = csv.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(lines.first == CacheExporter.columns.joined(separator: ","))
            #expect(lines.count == 1 + 4 * 6)
            #expect(csv.text.contains("\"'turn 0, \"\"quoted\"\", =SUM(A1)\"") == false)  // only a leading = is defused
            #expect(csv.text.contains("\"turn 0, \"\"quoted\"\", =SUM(A1)\""))

            let jsonl = try await gateway.call(
                .GET, "/v1/cache/export?format=jsonl&q=mitochondria", headers: GatewayHarness.keyHeader)
            #expect(jsonl.headers.first(name: "Content-Type")?.hasPrefix("application/x-ndjson") == true)
            let objects = try jsonl.text.split(separator: "\n").map {
                try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: String]
            }
            #expect(objects.count == 3 * 6)
            #expect(Set(objects.compactMap { $0["user_id"] }) == ["alice", "bob", "carol"])
            #expect(objects.first?["conversation_id"] == "conv-cointutor-carol-3")

            #expect(
                try await gateway.call(.GET, "/v1/cache/export?format=xml", headers: GatewayHarness.keyHeader).status
                    == 422)
        }
    }

    @Test func csvQuotesEveryFieldAndDefusesFormulasByScalar() {
        #expect(CSV.field("=HYPERLINK(\"x\")") == "\"'=HYPERLINK(\"\"x\"\")\"")
        #expect(CSV.field("+1") == "\"'+1\"")
        #expect(CSV.field("plain") == "\"plain\"")
        #expect(CSV.field("a\nb") == "\"a\nb\"")
        // "\r\n" is one Character but two scalars: it is quoted, and as a first scalar it is defused.
        #expect(CSV.field("see below\r\n=1+1") == "\"see below\r\n=1+1\"")
        #expect(CSV.field("\r\n=1+1") == "\"'\r\n=1+1\"")
        #expect(CSV.record(["a", "b,c"]) == "\"a\",\"b,c\"\r\n")
    }

    @Test func onlyOperatorsMayRead() async throws {
        try await GatewayHarness.with { gateway in
            let token = try await gateway.token(system: "drillquiz", user: "alice")
            for path in ["/v1/cache/conversations", "/v1/cache/conversations/x/messages", "/v1/cache/export"] {
                #expect(try await gateway.call(.GET, path).status == 401)
                #expect(try await gateway.call(.GET, path, headers: [("X-API-Key", "wrong")]).status == 401)
                #expect(
                    try await gateway.call(.GET, path, headers: [("Authorization", "Bearer \(token)")]).status == 401)
                #expect(try await gateway.call(.GET, path + "?token=\(token)").status == 401)
            }
        }
    }

    @Test func aChatIsInTheCacheAtOnce() async throws {
        try await GatewayHarness.with { gateway in
            let reply = try await gateway.call(
                .POST, "/v1/chat", headers: GatewayHarness.keyHeader,
                json: ["system_id": "drillquiz", "user_id": "dan", "message": "hello cache"])
            let conversationID = try #require(reply.object["conversation_id"] as? String)
            let listing = try await Self.listing(gateway, "?user_id=dan")
            #expect(listing.array.map { $0["conversation_id"] as? String } == [conversationID])
            let messages = try await gateway.call(
                .GET, "/v1/cache/conversations/\(conversationID)/messages", headers: GatewayHarness.keyHeader)
            #expect(messages.array.compactMap { $0["content"] as? String } == ["hello cache", "Echo: hello cache"])
        }
    }
}
