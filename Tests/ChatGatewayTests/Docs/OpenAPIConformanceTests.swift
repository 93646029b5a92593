import Foundation
import NIOFoundationCompat
import Testing
import Vapor

@testable import ChatGateway

/// The OpenAPI document is the contract: every route is in it, nothing else is, and real answers match it.
@Suite("OpenAPI document", .hangLimit)
struct OpenAPIConformanceTests {
    static func document() throws -> [String: Any] {
        let data = Data(buffer: try OpenAPIDocument.served.get())
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Every (method, path template, reply) is an answer the document lists, with a body matching its schema.
    static func expectDocumented(
        _ exchanges: [(String, String, GatewayHarness.Reply)], _ validator: OpenAPISchemaValidator
    ) throws {
        for (method, path, reply) in exchanges {
            let documented = validator.responseSchema(path: path, method: method, status: reply.status)
            #expect(documented != nil, "\(method) \(path) answered \(reply.status), which the document does not list")
            if let schema = documented ?? nil, !reply.body.isEmpty {
                let problems = validator.problems(try reply.json(), against: schema)
                #expect(problems.isEmpty, "\(method) \(path) \(reply.status): \(problems)")
            }
        }
    }

    @Test func describesExactlyTheAPIRoutes() async throws {
        try await GatewayHarness.with { gateway in
            let documented = Set(
                try Self.document()["paths"].map { paths in
                    (paths as! [String: [String: Any]]).flatMap { path, operations in
                        operations.keys.map { "\($0.uppercased()) \(path)" }
                    }
                } ?? [])
            let served = Set(
                gateway.app.routes.all.compactMap { route -> String? in
                    let path =
                        "/"
                        + route.path.map { component -> String in
                            if case .parameter(let name) = component { return "{\(name)}" }
                            return component.description
                        }.joined(separator: "/")
                    let probes = ["/health", "/health/ready", "/healthz", "/readyz", "/metrics"]
                    let prefixes = ["/v1/", "/admin/v1/", "/dify/v1/", "/openai/v1/"]
                    return prefixes.contains { path.hasPrefix($0) } || probes.contains(path)
                        ? "\(route.method.rawValue) \(path)" : nil
                })
            #expect(served == documented)
        }
    }

    @Test func answersMatchTheDocument() async throws {
        let validator = OpenAPISchemaValidator(document: try Self.document())
        try await GatewayHarness.with { gateway in
            let key = GatewayHarness.keyHeader
            let chat = try await gateway.call(
                .POST, "/v1/chat", headers: key, json: ["system_id": "drillquiz", "user_id": "u1", "message": "hi"])
            let conversation = chat.object["conversation_id"] as? String ?? "missing"
            let message = chat.object["message_id"] as? String ?? "missing"
            let exchanges: [(String, String, GatewayHarness.Reply)] = [
                ("POST", "/v1/chat", chat),
                ("POST", "/v1/chat", try await gateway.call(.POST, "/v1/chat", json: ["message": "hi"])),
                ("POST", "/v1/chat", try await gateway.call(.POST, "/v1/chat", headers: key, json: ["message": "hi"])),
                (
                    "POST", "/v1/chat",
                    try await gateway.call(
                        .POST, "/v1/chat", headers: key, json: ["system_id": "A_B", "user_id": "u", "message": "hi"])
                ),
                (
                    "GET", "/v1/conversations",
                    try await gateway.call(.GET, "/v1/conversations?system_id=drillquiz&user_id=u1", headers: key)
                ),
                (
                    "GET", "/v1/conversations/{conversation_id}/messages",
                    try await gateway.call(
                        .GET, "/v1/conversations/\(conversation)/messages?system_id=drillquiz&user_id=u1", headers: key)
                ),
                (
                    "GET", "/v1/conversations/{conversation_id}/messages",
                    try await gateway.call(
                        .GET, "/v1/conversations/\(UUID())/messages?system_id=drillquiz&user_id=u1", headers: key)
                ),
                (
                    "GET", "/v1/chat-token",
                    try await gateway.call(.GET, "/v1/chat-token?system_id=drillquiz&user_id=u1&lang=ja", headers: key)
                ),
                (
                    "GET", "/v1/chat-token",
                    try await gateway.call(.GET, "/v1/chat-token?system_id=drillquiz&user_id=u1")
                ),
                (
                    "POST", "/v1/conversations/{conversation_id}/name",
                    try await gateway.call(
                        .POST, "/v1/conversations/\(conversation)/name", headers: key,
                        json: ["system_id": "drillquiz", "user_id": "u1", "name": "n"])
                ),
                (
                    "POST", "/v1/conversations/{conversation_id}/name",
                    try await gateway.call(
                        .POST, "/v1/conversations/\(conversation)/name", headers: key,
                        json: ["system_id": "drillquiz", "user_id": "u1"])
                ),
                (
                    "POST", "/v1/messages/{message_id}/feedbacks",
                    try await gateway.call(
                        .POST, "/v1/messages/\(message)/feedbacks", headers: key,
                        json: ["system_id": "drillquiz", "user_id": "u1", "rating": "like"])
                ),
                (
                    "GET", "/v1/messages/{message_id}/suggested",
                    try await gateway.call(
                        .GET, "/v1/messages/\(message)/suggested?system_id=drillquiz&user_id=u1", headers: key)
                ),
                (
                    "POST", "/v1/chat/{task_id}/stop",
                    try await gateway.call(
                        .POST, "/v1/chat/\(UUID())/stop", headers: key,
                        json: ["system_id": "drillquiz", "user_id": "u1"])
                ),
                (
                    "DELETE", "/v1/conversations/{conversation_id}",
                    try await gateway.call(
                        .DELETE, "/v1/conversations/\(UUID())?system_id=drillquiz&user_id=u1", headers: key)
                ),
                ("GET", "/health", try await gateway.call(.GET, "/health")),
                ("GET", "/health/ready", try await gateway.call(.GET, "/health/ready")),
                ("GET", "/healthz", try await gateway.call(.GET, "/healthz")),
                ("GET", "/readyz", try await gateway.call(.GET, "/readyz")),
                ("GET", "/metrics", try await gateway.call(.GET, "/metrics")),
                ("GET", "/v1/usage", try await gateway.call(.GET, "/v1/usage?group_by=system,user,day", headers: key)),
                ("GET", "/v1/usage", try await gateway.call(.GET, "/v1/usage?group_by=nope", headers: key)),
                ("GET", "/v1/usage", try await gateway.call(.GET, "/v1/usage")),
            ]
            try Self.expectDocumented(exchanges, validator)
        }
    }

    @Test func difyAPIAnswersMatchTheDocument() async throws {
        let validator = OpenAPISchemaValidator(document: try Self.document())
        try await DifyAPIHarness.with { gateway in
            let key = DifyAPIHarness.bearer(DifyAPIHarness.drillquizKey)
            let chat = try await DifyAPIHarness.chat(gateway)
            let conversation = chat.object["conversation_id"] as? String ?? "missing"
            let message = chat.object["message_id"] as? String ?? "missing"
            let exchanges: [(String, String, GatewayHarness.Reply)] = [
                ("POST", "/dify/v1/chat-messages", chat),
                (
                    "POST", "/dify/v1/chat-messages",
                    try await gateway.call(.POST, "/dify/v1/chat-messages", json: ["query": "hi", "user": "u1"])
                ),
                (
                    "GET", "/dify/v1/conversations",
                    try await gateway.call(.GET, "/dify/v1/conversations?user=u1", headers: key)
                ),
                (
                    "GET", "/dify/v1/messages",
                    try await gateway.call(
                        .GET, "/dify/v1/messages?user=u1&conversation_id=\(conversation)", headers: key)
                ),
                (
                    "GET", "/dify/v1/messages",
                    try await gateway.call(.GET, "/dify/v1/messages?user=u1&conversation_id=\(UUID())", headers: key)
                ),
                (
                    "POST", "/dify/v1/conversations/{conversation_id}/name",
                    try await gateway.call(
                        .POST, "/dify/v1/conversations/\(conversation)/name", headers: key,
                        json: ["name": "n", "user": "u1"])
                ),
                (
                    "POST", "/dify/v1/messages/{message_id}/feedbacks",
                    try await gateway.call(
                        .POST, "/dify/v1/messages/\(message)/feedbacks", headers: key,
                        json: ["rating": "like", "user": "u1"])
                ),
                (
                    "GET", "/dify/v1/messages/{message_id}/suggested",
                    try await gateway.call(.GET, "/dify/v1/messages/\(message)/suggested?user=u1", headers: key)
                ),
                ("GET", "/dify/v1/parameters", try await gateway.call(.GET, "/dify/v1/parameters", headers: key)),
                ("GET", "/dify/v1/meta", try await gateway.call(.GET, "/dify/v1/meta", headers: key)),
                ("GET", "/dify/v1/info", try await gateway.call(.GET, "/dify/v1/info", headers: key)),
                (
                    "GET", "/dify/v1/info",
                    try await gateway.call(.GET, "/dify/v1/info", headers: DifyAPIHarness.bearer("wrong"))
                ),
                (
                    "POST", "/dify/v1/chat-messages/{task_id}/stop",
                    try await gateway.call(
                        .POST, "/dify/v1/chat-messages/\(UUID())/stop", headers: key, json: ["user": "u1"])
                ),
                (
                    "DELETE", "/dify/v1/conversations/{conversation_id}",
                    try await gateway.call(
                        .DELETE, "/dify/v1/conversations/\(conversation)", headers: key, json: ["user": "u1"])
                ),
            ]
            try Self.expectDocumented(exchanges, validator)
        }
    }

    @Test func openAIAnswersMatchTheDocument() async throws {
        let validator = OpenAPISchemaValidator(document: try Self.document())
        try await OpenAIHarness.with { gateway in
            typealias H = OpenAIHarness
            let chat = "/openai/v1/chat/completions"
            let exchanges: [(String, String, GatewayHarness.Reply)] = [
                ("GET", "/openai/v1/models", try await gateway.call(.GET, "/openai/v1/models", headers: H.bearer())),
                ("GET", "/openai/v1/models", try await gateway.call(.GET, "/openai/v1/models")),
                (
                    "GET", "/openai/v1/models/{model}",
                    try await gateway.call(.GET, "/openai/v1/models/drillquiz", headers: H.bearer())
                ),
                (
                    "GET", "/openai/v1/models/{model}",
                    try await gateway.call(.GET, "/openai/v1/models/coin-tutor", headers: H.bearer())
                ),
                ("POST", chat, try await H.chat(gateway, [H.user("hi")], extra: ["temperature": 1])),
                ("POST", chat, try await H.chat(gateway, [H.user("hi")], extra: ["n": 3])),
                ("POST", chat, try await H.chat(gateway, [H.user("hi")], model: "coin-tutor")),
                ("POST", chat, try await H.chat(gateway, [H.user("hi")], key: "wrong-key")),
                ("POST", chat, try await H.chat(gateway, [])),
                ("POST", chat, try await gateway.call(.POST, chat, headers: H.bearer(), rawBody: Data("[1]".utf8))),
            ]
            try Self.expectDocumented(exchanges, validator)
        }
        let paths = try #require(try Self.document()["paths"] as? [String: [String: [String: Any]]])
        #expect(paths["/openai/v1/chat/completions"]?["post"]?["tags"] as? [String] == ["OpenAI API"])
    }

    @Test func theDifyAPIIsDifysOwnDocumentUnderItsOwnTag() throws {
        let document = try Self.document()
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        let chat = try #require(paths["/dify/v1/chat-messages"]?["post"])
        #expect(chat["tags"] as? [String] == ["Dify API"])
        #expect(chat["operationId"] as? String == "sendChatMessage")
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        #expect(schemas["Dify.ChatRequest"] != nil && schemas["Dify.ChatCompletionResponse"] != nil)
        // Every reference of the merged document resolves, Dify's renamed ones included.
        func references(in value: Any) -> [String] {
            if let object = value as? [String: Any] {
                let own = (object["$ref"] as? String).map {
                    [$0.replacingOccurrences(of: "#/components/schemas/", with: "")]
                }
                return (own ?? []) + object.values.flatMap(references)
            }
            return (value as? [Any])?.flatMap(references) ?? []
        }
        let references = references(in: document).filter { !$0.hasPrefix("#") }
        #expect(references.contains("Dify.ChatRequest"))
        #expect(references.allSatisfy { schemas[$0] != nil }, "\(references.filter { schemas[$0] == nil })")
        // Operations the gateway does not pass through are not offered.
        #expect(paths["/dify/v1/workflows/run"] == nil && paths["/dify/v1/site"] == nil)
        #expect(paths.keys.filter { $0.hasPrefix("/dify/v1/apps/") }.isEmpty)
    }

    @Test func servesTheDocumentAndSwaggerUIWithoutACDN() async throws {
        try await GatewayHarness.with { gateway in
            let spec = try await gateway.call(.GET, "/openapi.json")
            #expect(spec.status == 200)
            #expect(spec.body == Data(buffer: try OpenAPIDocument.served.get()))
            #expect(spec.object["openapi"] as? String == "3.0.3")
            let docs = try await gateway.call(.GET, "/docs")
            #expect(docs.status == 200)
            #expect(docs.text.contains("/docs/swagger-ui-bundle.js"))
            #expect(!docs.text.contains("https://"))
            let policy = try #require(docs.headers.first(name: "Content-Security-Policy"))
            #expect(policy.contains("script-src 'self';") && policy.contains("frame-ancestors 'self'"))
            #expect(docs.headers.first(name: "X-Content-Type-Options") == "nosniff")
            #expect(docs.headers.first(name: "X-Frame-Options") == "SAMEORIGIN")
            let bundle = try await gateway.call(.GET, "/docs/swagger-ui-bundle.js")
            #expect(bundle.status == 200)
            #expect(bundle.body.count > 100_000)
            #expect(try await gateway.call(.GET, "/docs/../openapi.json").status == 404)
        }
    }
}
