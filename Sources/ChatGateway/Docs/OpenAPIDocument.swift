import Foundation
import NIOCore

/// `GET /openapi.json`: the gateway's own document (`Resources/openapi.json`) with Dify's chat-app document
/// (`Resources/dify/openapi_chat.json`, Dify's published file as it is) merged in: each operation `/dify/v1` serves,
/// under `/dify/v1` and the tag "Dify API", with Dify's schemas renamed `Dify.<name>` rather than restated.
enum OpenAPIDocument {
    static let difyTag = "Dify API"
    static let difyPrefix = "/dify/v1"

    struct LoadError: Error, Sendable, CustomStringConvertible { let description: String }

    /// The bundle's merged document, built once per process: its files are part of the binary and never change.
    static let served: Result<ByteBuffer, LoadError> = Result { try load(from: APIDocsController.resourceDirectory) }
        .mapError { LoadError(description: "openapi.json could not be built: \($0)") }

    static func load(from directory: String) throws -> ByteBuffer {
        func read(_ file: String) throws -> JSONValue {
            try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: directory + file)))
        }
        return merged(gateway: try read("openapi.json"), dify: try read("dify/openapi_chat.json"))
            .jsonBuffer(sortedKeys: true)
    }

    static func merged(gateway: JSONValue, dify: JSONValue) -> JSONValue {
        guard case .object(var document) = gateway, case .object(let difyDocument) = dify else { return gateway }
        var paths = document["paths"]?.objectValue ?? [:]
        for (path, item) in difyDocument["paths"]?.objectValue ?? [:] {
            var served: [String: JSONValue] = [:]
            for (method, operation) in item.objectValue ?? [:] {
                guard case .object(let fields) = operation, let id = fields["operationId"]?.stringValue,
                    DifyAPIController.servedOperationIDs.contains(id)
                else { continue }
                served[method] = difyOperation(renamingReferences(in: operation))
            }
            if !served.isEmpty { paths[difyPrefix + path] = .object(served) }
        }
        document["paths"] = .object(paths)

        var components = document["components"]?.objectValue ?? [:]
        for section in ["schemas", "responses"] {
            var merged = components[section]?.objectValue ?? [:]
            for (name, value) in difyDocument["components"]?.objectValue?[section]?.objectValue ?? [:] {
                merged["Dify.\(name)"] = renamingReferences(in: value)
            }
            components[section] = .object(merged)
        }
        document["components"] = .object(components)
        var tags = document["tags"]?.arrayValue ?? []
        tags.append(
            .object([
                "name": .string(difyTag),
                "description": .string(
                    "Dify's own chat-app Service API, served by the gateway: a Dify client switches by base URL and "
                        + "key. Shapes are Dify's (`openapi_chat.json`); see docs/dify-api.md."),
            ]))
        document["tags"] = .array(tags)
        return .object(document)
    }

    /// One of Dify's operations as the gateway serves it: the gateway's key as the Bearer token, the optional
    /// `X-Gateway-System` header, and the refusals the gateway adds (a key that is no server key, another system).
    static func difyOperation(_ operation: JSONValue) -> JSONValue {
        guard case .object(var fields) = operation else { return operation }
        fields["tags"] = .array([.string(difyTag)])
        fields["security"] = .array([.object(["GatewayKeyBearer": .array([])])])
        var parameters = fields["parameters"]?.arrayValue ?? []
        parameters.append(
            .object([
                "name": .string("X-Gateway-System"), "in": .string("header"), "required": .bool(false),
                "description": .string(
                    "The system to act for; required for a key of several systems or of all (without it: 400)."),
                "schema": .object(["type": .string("string")]),
            ]))
        // The chat takes an `Idempotency-Key` and names its turn, as `/v1/chat` does.
        let isChat = fields["operationId"]?.stringValue == "sendChatMessage"
        if isChat { parameters.append(.object(["$ref": .string("#/components/parameters/IdempotencyKey")])) }
        fields["parameters"] = .array(parameters)
        var responses = fields["responses"]?.objectValue ?? [:]
        for (status, text) in [
            ("401", "No server key: none, a wrong one, a browser key or a chat token."),
            ("403", "The key does not serve the system named in `X-Gateway-System`."),
        ] where responses[status] == nil {
            responses[status] = .object([
                "description": .string(text),
                "content": .object([
                    "application/json": .object([
                        "schema": .object(["$ref": .string("#/components/schemas/DifyErrorBody")])
                    ])
                ]),
            ])
        }
        if isChat {
            if case .object(var ok)? = responses["200"] {
                ok["headers"] = .object([
                    "X-Turn-Id": .object(["$ref": .string("#/components/headers/TurnId")]),
                    "Idempotent-Replayed": .object(["$ref": .string("#/components/headers/IdempotentReplayed")]),
                ])
                responses["200"] = .object(ok)
            }
            responses["409"] = .object(["$ref": .string("#/components/responses/DifyIdempotencyInProgress")])
            responses["410"] = .object(["$ref": .string("#/components/responses/DifyUserErasureInProgress")])
        }
        fields["responses"] = .object(responses)
        return .object(fields)
    }

    /// `#/components/schemas/X` becomes `#/components/schemas/Dify.X`, and the same for responses.
    static func renamingReferences(in value: JSONValue) -> JSONValue {
        switch value {
        case .object(var fields):
            if case .string(let reference)? = fields["$ref"] {
                for section in ["schemas", "responses"] where reference.hasPrefix("#/components/\(section)/") {
                    let name = reference.dropFirst("#/components/\(section)/".count)
                    fields["$ref"] = .string("#/components/\(section)/Dify.\(name)")
                }
            }
            return .object(fields.mapValues(renamingReferences))
        case .array(let items): return .array(items.map(renamingReferences))
        default: return value
        }
    }
}
