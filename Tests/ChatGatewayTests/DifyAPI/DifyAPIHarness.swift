import Foundation
import NIOCore

@testable import ChatGateway

/// Calls to the gateway's `/dify/v1` as a Dify client makes them: a gateway key as the Bearer token.
enum DifyAPIHarness {
    static let drillquizKey = "dify-api-drillquiz-key-0123456789"
    static let cointutorKey = "dify-api-cointutor-key-0123456789"

    /// Whether `reply` is werkzeug's 404, Dify's answer for a URL it has no route for.
    static func isURLNotFound(_ reply: GatewayHarness.Reply) -> Bool {
        isDifyError(reply, status: 404, code: "not_found")
            && reply.object["message"] as? String
                == "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again."
    }

    static func bearer(_ key: String, system: String? = nil) -> [(String, String)] {
        [("Authorization", "Bearer \(key)")] + (system.map { [("X-Gateway-System", $0)] } ?? [])
    }

    /// A gateway with a key for each of `drillquiz` and `cointutor`, besides the harness' all-systems key.
    static func with<T>(
        adjust: @escaping (inout Settings) -> Void = { _ in }, _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        try await GatewayHarness.with(
            adjust: {
                $0.apiKeys += [
                    APIKeyEntry(key: drillquizKey, scope: .systems(["drillquiz"])),
                    APIKeyEntry(key: cointutorKey, scope: .systems(["cointutor"])),
                ]
                adjust(&$0)
            }, body)
    }

    static func chat(
        _ gateway: GatewayHarness, key: String = drillquizKey, user: String = "u1", query: String = "hi",
        conversationID: String? = nil
    ) async throws -> GatewayHarness.Reply {
        var body: [String: Any] = ["query": query, "inputs": [:], "response_mode": "blocking", "user": user]
        if let conversationID { body["conversation_id"] = conversationID }
        return try await gateway.call(.POST, "/dify/v1/chat-messages", headers: bearer(key), json: body)
    }

    static func streamBody(query: String, user: String = "u1") -> [String: Any] {
        ["query": query, "inputs": [:], "response_mode": "streaming", "user": user]
    }

    /// A `multipart/form-data` body with one file and, when given, a `user` field.
    static func form(file: String, bytes: Int, user: String?) -> (contentType: String, body: Data) {
        let boundary = "dify-api-test-boundary"
        var body = Data()
        if let user {
            body.append(Data("--\(boundary)\r\nContent-Disposition: form-data; name=\"user\"\r\n\r\n\(user)\r\n".utf8))
        }
        body.append(
            Data(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(file)\"\r\nContent-Type: text/plain\r\n\r\n"
                    .utf8))
        body.append(Data(repeating: UInt8(ascii: "x"), count: bytes))
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        return ("multipart/form-data; boundary=\(boundary)", body)
    }

    /// Whether `reply` is Dify's error body, exactly its three fields.
    static func isDifyError(_ reply: GatewayHarness.Reply, status: Int, code: String) -> Bool {
        reply.status == status && reply.object["status"] as? Int == status && reply.object["code"] as? String == code
            && (reply.object["message"] as? String)?.isEmpty == false
            && Set(reply.object.keys) == ["code", "message", "status"]
    }
}
