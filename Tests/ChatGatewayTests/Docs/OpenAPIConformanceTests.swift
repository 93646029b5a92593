import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// The OpenAPI document is the contract: every route is in it, nothing else is, and real answers match it.
@Suite("OpenAPI document", .timeLimit(.minutes(3)))
struct OpenAPIConformanceTests {
    static func document() throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: APIDocsController.resourceDirectory + "openapi.json"))
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
                    return path.hasPrefix("/v1/") || probes.contains(path) || path.hasPrefix("/admin/v1/")
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

    @Test func servesTheDocumentAndSwaggerUIWithoutACDN() async throws {
        try await GatewayHarness.with { gateway in
            let spec = try await gateway.call(.GET, "/openapi.json")
            #expect(spec.status == 200)
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
