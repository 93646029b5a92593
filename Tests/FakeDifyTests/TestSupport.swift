import AsyncHTTPClient
import FakeDify
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// Runs `body` against a fresh FakeDifyServer on an ephemeral loopback port, over real HTTP.
func withFakeDify(
    _ options: FakeDifyOptions = .init(),
    _ body: (FakeDifyServer, DifyHTTP) async throws -> Void
) async throws {
    let server = try await FakeDifyServer.start(store: FakeDifyStore(options: options))
    do {
        try await body(server, DifyHTTP(baseURL: server.baseURL))
        try await server.shutdown()
    } catch {
        try? await server.shutdown()
        throw error
    }
}

struct HTTPResult {
    let status: Int
    let headers: HTTPHeaders
    let body: String
    var json: JSONDoc { JSONDoc(parsing: body) }
}

/// A small client over AsyncHTTPClient's shared instance.
struct DifyHTTP: Sendable {
    let baseURL: String
    static let key = "app-fake-key"

    func request(
        _ method: HTTPMethod, _ path: String, json: String? = nil, auth: String? = "Bearer \(key)",
        contentType: String? = "application/json"
    ) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let auth { request.headers.add(name: "Authorization", value: auth) }
        if let json {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(string: json))
        }
        return request
    }

    /// `timeout` only stops a test that would hang: the whole suite runs in parallel (twice in CI, on SQLite and on
    /// PostgreSQL), and a call once took more than 5 s there under full load.
    func send(
        _ method: HTTPMethod, _ path: String, json: String? = nil, auth: String? = "Bearer \(key)",
        contentType: String? = "application/json", timeout: TimeAmount = .seconds(30)
    ) async throws -> HTTPResult {
        let response = try await HTTPClient.shared.execute(
            request(method, path, json: json, auth: auth, contentType: contentType), timeout: timeout)
        let body = try await response.body.collect(upTo: 16 << 20)
        return HTTPResult(status: Int(response.status.code), headers: response.headers, body: String(buffer: body))
    }

    /// Body reads of a stream with their arrival times; stops early when `until` says so.
    func stream(
        _ path: String = "/v1/chat-messages", json: String,
        until: (String) -> Bool = { _ in false }
    ) async throws -> (HTTPResult, [(at: ContinuousClock.Instant, text: String)]) {
        let response = try await HTTPClient.shared.execute(request(.POST, path, json: json), timeout: .seconds(30))
        var reads: [(at: ContinuousClock.Instant, text: String)] = []
        var all = ""
        for try await buffer in response.body {
            let text = String(buffer: buffer)
            reads.append((.now, text))
            all += text
            if until(all) { break }
        }
        return (HTTPResult(status: Int(response.status.code), headers: response.headers, body: all), reads)
    }

    /// A streaming body as it arrived, and whether the connection broke before it ended. Read by a delegate as the
    /// bytes come in: an async body sequence drops what its reader has not taken yet when the connection breaks,
    /// which on a loaded machine (the test's task resumed late) loses events that did arrive.
    func streamUntilBroken(
        _ path: String = "/v1/chat-messages", json: String
    ) async throws -> (body: String, broke: Bool) {
        let request = try HTTPClient.Request(
            url: baseURL + path, method: .POST, headers: self.request(.POST, path, json: json).headers,
            body: .string(json))
        let collector = BodyCollector()
        let task = HTTPClient.shared.execute(request: request, delegate: collector, deadline: .now() + .seconds(30))
        do {
            try await task.futureResult.get()
            return (collector.body, false)
        } catch {
            return (collector.body, true)
        }
    }

    /// Sends a chat message and returns the blocking answer.
    func chat(
        _ query: String, user: String = "u1", conversationID: String = "", extra: String = ""
    ) async throws -> HTTPResult {
        try await send(
            .POST, "/v1/chat-messages", json: chatBody(query, user: user, conversationID: conversationID, extra: extra))
    }
}

func chatBody(
    _ query: String, user: String = "u1", conversationID: String = "", streaming: Bool = false,
    extra: String = ""
) -> String {
    let fields =
        [
            #""query": \#(jsonString(query))"#, #""inputs": {}"#, #""user": \#(jsonString(user))"#,
            #""conversation_id": \#(jsonString(conversationID))"#,
            #""response_mode": "\#(streaming ? "streaming" : "blocking")""#,
        ] + (extra.isEmpty ? [] : [extra])
    return "{" + fields.joined(separator: ", ") + "}"
}

func jsonString(_ s: String) -> String {
    String(decoding: try! JSONSerialization.data(withJSONObject: [s], options: [.fragmentsAllowed]), as: UTF8.self)
        .dropFirst().dropLast().description
}

/// Splits an SSE body into frames; each `data:` frame is decoded.
func sseFrames(_ body: String) -> [String] {
    body.components(separatedBy: "\n\n").filter { !$0.isEmpty }
}

func sseEvents(_ body: String) -> [JSONDoc] {
    sseFrames(body).filter { $0.hasPrefix("data: ") }.map { JSONDoc(parsing: String($0.dropFirst(6))) }
}

/// Read-only view of a JSON document parsed by Foundation (independent of the fake's own encoder).
struct JSONDoc: @unchecked Sendable {
    let value: Any?

    init(_ value: Any?) { self.value = value }
    init(parsing text: String) {
        value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
    }

    subscript(key: String) -> JSONDoc { JSONDoc((value as? [String: Any])?[key]) }
    subscript(index: Int) -> JSONDoc {
        guard let array = value as? [Any], array.indices.contains(index) else { return JSONDoc(nil) }
        return JSONDoc(array[index])
    }
    var string: String? { value as? String }
    var int: Int? { value as? Int }
    var double: Double? { value as? Double }
    var bool: Bool? { value as? Bool }
    var array: [JSONDoc] { (value as? [Any])?.map(JSONDoc.init) ?? [] }
    var keys: Set<String> { Set((value as? [String: Any]).map { Array($0.keys) } ?? []) }
    var isNull: Bool { value is NSNull }
    var exists: Bool { value != nil }
}

let werkzeug404 =
    #"{"code": "not_found", "message": "The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.", "status": 404}"#

func notFound(_ message: String) -> String {
    #"{"code": "not_found", "message": "\#(message)", "status": 404}"#
}

/// Keeps every body byte as it arrives.
final class BodyCollector: HTTPClientResponseDelegate, Sendable {
    typealias Response = Void
    private let received = NIOLockedValueBox("")

    var body: String { received.withLockedValue { $0 } }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        received.withLockedValue { $0 += String(buffer: buffer) }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {}
}
