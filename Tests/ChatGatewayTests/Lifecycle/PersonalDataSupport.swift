import AsyncHTTPClient
import FakeDify
import Foundation
import NIOCore
import SQLKit
import Testing
import Vapor

@testable import ChatGateway

/// What the personal-data tests share: an admin key, chats, the fake Dify's own API, erasures run to their end, and
/// the database's files searched from another process.
enum PersonalData {
    static let adminKey = "admin-key-0123456789abcdef"
    static let admin = [("X-Admin-Key", adminKey)]

    static func with(
        fakeOptions: FakeDifyOptions = FakeDifyOptions(apiKeys: [GatewayHarness.difyKey]),
        adjust: @escaping (inout Settings) -> Void = { _ in },
        dependencies: GatewayDependencies = .init(),
        _ body: (GatewayHarness) async throws -> Void
    ) async throws {
        try await GatewayHarness.with(
            fakeOptions: fakeOptions,
            adjust: { settings in
                settings.adminKeys = [adminKey]
                adjust(&settings)
            }, dependencies: dependencies, body)
    }

    /// One chat of `user` in drillquiz; its conversation id.
    @discardableResult
    static func chat(
        _ gateway: GatewayHarness, _ message: String, user: String, conversationID: String? = nil
    ) async throws -> String {
        var body: [String: Any] = ["system_id": "drillquiz", "user_id": user, "message": message]
        if let conversationID { body["conversation_id"] = conversationID }
        let reply = try await gateway.call(.POST, "/v1/chat", headers: GatewayHarness.keyHeader, json: body)
        #expect(reply.status == 200, "\(reply.text)")
        return try #require(reply.object["conversation_id"] as? String)
    }

    /// A call to the fake Dify's own Service API, as a client of Dify would make it.
    static func fake(
        _ gateway: GatewayHarness, _ method: HTTPMethod, _ path: String, json: [String: Any]? = nil
    ) async throws -> GatewayHarness.Reply {
        var request = HTTPClientRequest(url: gateway.fake.baseURL + "/v1/" + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(GatewayHarness.difyKey)")
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 22)
        return GatewayHarness.Reply(
            status: Int(response.status.code), headers: response.headers, body: Data(buffer: body))
    }

    /// A conversation made in Dify directly, past the gateway.
    static func directConversation(_ gateway: GatewayHarness, user: String, query: String) async throws {
        let reply = try await fake(
            gateway, .POST, "chat-messages",
            json: ["query": query, "inputs": [:], "user": "drillquiz_\(user)", "response_mode": "blocking"])
        #expect(reply.status == 200, "\(reply.text)")
    }

    static func difyConversations(_ gateway: GatewayHarness, user: String) async throws -> Int {
        let reply = try await fake(gateway, .GET, "conversations?user=drillquiz_\(user)&limit=100")
        return (reply.object["data"] as? [[String: Any]])?.count ?? -1
    }

    /// Asks for the user's erasure and waits until it ends; the final receipt.
    static func erase(
        _ gateway: GatewayHarness, user: String, headers: [(String, String)] = admin
    ) async throws -> [String: Any] {
        let started = try await gateway.call(
            .POST, "/admin/v1/systems/drillquiz/users/\(user)/erasure", headers: headers)
        #expect(started.status == 202, "\(started.text)")
        let id = try #require(started.object["id"] as? String)
        #expect(started.headers.first(name: .location) == "/admin/v1/erasures/\(id)")
        return try await finished(gateway, id, headers: headers)
    }

    static func finished(
        _ gateway: GatewayHarness, _ id: String, headers: [(String, String)] = admin
    ) async throws -> [String: Any] {
        var receipt: [String: Any] = [:]
        try await gateway.waitFor("erasure \(id) to end", within: .seconds(60)) {
            receipt = try await gateway.call(.GET, "/admin/v1/erasures/\(id)", headers: headers).object
            return (receipt["status"] as? String).map { $0 != "running" } ?? false
        }
        return receipt
    }

    /// Whether `needle`'s bytes are anywhere in the file. Read by `grep`, another process: closing a descriptor of
    /// the database in this one would drop the gateway's SQLite locks.
    static func file(_ path: String, contains needle: String) throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        let grep = Process()
        grep.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        grep.arguments = ["grep", "-a", "-F", "-q", "-e", needle, path]
        try grep.run()
        grep.waitUntilExit()
        #expect(grep.terminationStatus != 2, "grep could not read \(path)")
        return grep.terminationStatus == 0
    }

    /// PostgreSQL: how many rows of any table hold `needle`, read as the rows' text.
    static func rowsHolding(_ needle: String, in sql: any SQLDatabase) async throws -> Int {
        let tables = try await sql.raw(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        ).all().map { try $0.decode(column: "table_name", as: String.self) }
        var count = 0
        for table in tables {
            let row = try await sql.raw(
                "SELECT COUNT(*) AS n FROM \(ident: table) t WHERE strpos(t::text, \(bind: needle)) > 0"
            ).first()
            count += try row?.decode(column: "n", as: Int.self) ?? 0
        }
        return count
    }
}
