import AsyncHTTPClient
import FakeDify
import Foundation
import NIOCore
import NIOFoundationCompat

@testable import ChatGateway

/// Calls to the gateway's `/openai/v1` as an OpenAI client makes them, and looks at what the fake Dify got.
enum OpenAIHarness {
    static let drillquizKey = "openai-drillquiz-key-0123456789"

    static func bearer(_ key: String = drillquizKey) -> [(String, String)] { [("Authorization", "Bearer \(key)")] }

    /// A gateway with a key for `drillquiz` only, besides the harness' all-systems key, and `cointutor` named
    /// `coin-tutor`.
    static func with<T>(
        fakeOptions: FakeDifyOptions = FakeDifyOptions(apiKeys: [GatewayHarness.difyKey]),
        adjust: @escaping (inout Settings) -> Void = { _ in }, _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        try await GatewayHarness.with(
            fakeOptions: fakeOptions,
            adjust: {
                $0.apiKeys += [APIKeyEntry(key: drillquizKey, scope: .systems(["drillquiz"]))]
                $0.allowedSystemIDs = ["drillquiz", "cointutor"]
                $0.openAIModelNames = ["COINTUTOR": "coin-tutor"]
                adjust(&$0)
            }, body)
    }

    static func chat(
        _ gateway: GatewayHarness, _ messages: [[String: Any]], model: String = "drillquiz", user: String? = "u1",
        key: String = drillquizKey, headers: [(String, String)] = [], extra: [String: Any] = [:]
    ) async throws -> GatewayHarness.Reply {
        var body: [String: Any] = ["model": model, "messages": messages]
        if let user { body["user"] = user }
        body.merge(extra) { _, new in new }
        return try await gateway.call(
            .POST, "/openai/v1/chat/completions", headers: bearer(key) + headers, json: body)
    }

    static func user(_ text: String) -> [String: Any] { ["role": "user", "content": text] }
    static func assistant(_ text: String) -> [String: Any] { ["role": "assistant", "content": text] }

    /// The `data:` payloads of a stream's body, `[DONE]` as the string.
    static func dataLines(_ reply: GatewayHarness.Reply) -> [Any] {
        reply.text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { line in
            let payload = String(line.dropFirst(6))
            return payload == "[DONE]"
                ? payload : (try? JSONSerialization.jsonObject(with: Data(payload.utf8))) ?? payload
        }
    }

    static func content(of reply: GatewayHarness.Reply) -> String? {
        let choices = reply.object["choices"] as? [[String: Any]]
        return (choices?.first?["message"] as? [String: Any])?["content"] as? String
    }

    static func errorCode(_ reply: GatewayHarness.Reply) -> String? {
        (reply.object["error"] as? [String: Any])?["code"] as? String
    }

    /// The fake Dify's answer to one of its own list calls, for what Dify holds.
    static func fakeList(_ gateway: GatewayHarness, _ path: String) async throws -> [[String: Any]] {
        var request = HTTPClientRequest(url: gateway.fake.baseURL + "/v1/" + path)
        request.headers.add(name: "Authorization", value: "Bearer \(GatewayHarness.difyKey)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 1 << 20)
        let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
        return object?["data"] as? [[String: Any]] ?? []
    }
}
