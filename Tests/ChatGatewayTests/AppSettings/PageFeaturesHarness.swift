import FakeDify
import Foundation

@testable import ChatGateway

/// What the chat page's features are tested with: a fake app that takes images and documents, and calls as the
/// page makes them, with a chat token.
enum PageFeaturesHarness {
    /// Dify's newer `file_upload`: images and documents, two per message.
    static let fileUpload = FakeDifyJSON.object([
        ("enabled", .bool(true)),
        ("allowed_file_types", .array([.string("image"), .string("document")])),
        ("allowed_file_extensions", .array([])),
        ("allowed_file_upload_methods", .array([.string("local_file"), .string("remote_url")])),
        ("number_limits", .int(2)),
    ])

    static func options(_ change: (inout FakeDifyOptions) -> Void = { _ in }) -> FakeDifyOptions {
        var options = FakeDifyOptions(apiKeys: [GatewayHarness.difyKey])
        options.fileUpload = fileUpload
        change(&options)
        return options
    }

    static func bearer(_ gateway: GatewayHarness, user: String = "u1") async throws -> [(String, String)] {
        [("Authorization", "Bearer \(try await gateway.token(user: user))")]
    }

    /// A `multipart/form-data` body with one file part.
    static func form(
        filename: String, contentType: String, bytes: Int, field: String = "file"
    ) -> (header: (String, String), body: Data) {
        let boundary = "page-features-boundary"
        var body = Data(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field)\"; filename=\"\(filename)\"\r\nContent-Type: \(contentType)\r\n\r\n"
                .utf8)
        body.append(Data(repeating: 0x42, count: bytes))
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        return (("Content-Type", "multipart/form-data; boundary=\(boundary)"), body)
    }

    static func upload(
        _ gateway: GatewayHarness, _ path: String, filename: String, contentType: String, bytes: Int,
        user: String = "u1"
    ) async throws -> GatewayHarness.Reply {
        let form = form(filename: filename, contentType: contentType, bytes: bytes)
        return try await gateway.call(
            .POST, path, headers: try await bearer(gateway, user: user) + [form.header], rawBody: form.body)
    }

    static func chat(
        _ gateway: GatewayHarness, _ body: [String: Any], user: String = "u1"
    ) async throws -> GatewayHarness.Reply {
        try await gateway.call(.POST, "/v1/chat", headers: try await bearer(gateway, user: user), json: body)
    }

    static func messages(
        _ gateway: GatewayHarness, conversation: String, user: String = "u1"
    ) async throws -> [[String: Any]] {
        try await gateway.call(
            .GET, "/v1/conversations/\(conversation)/messages", headers: try await bearer(gateway, user: user)
        ).array
    }
}
