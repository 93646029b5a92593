import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import Tracing

/// Talks to Dify's Service API over HTTP, relying only on what `shared/dify/` documents.
public struct HTTPDifyClient: DifyClient {
    private let http: HTTPClient
    /// Streams use their own client: its read timeout is the longest silence tolerated between events,
    /// which would wrongly cut a blocking answer that takes longer to compute.
    private let streamingHTTP: HTTPClient
    /// Uploads use a third, with fewer connections per host: slow senders cannot take the streams' connections.
    private let uploadHTTP: HTTPClient
    private let timeout: TimeAmount
    private let maxResponseBytes = 16 * 1024 * 1024
    /// Where admin-set Dify URLs may lead, checked before each call to one.
    private let addressPolicy: DifyAddressPolicy

    public init(
        http: HTTPClient, streamingHTTP: HTTPClient? = nil, uploadHTTP: HTTPClient? = nil, timeout: Duration,
        allowedNetworks: [IPAddressRange] = []
    ) {
        self.http = http
        self.streamingHTTP = streamingHTTP ?? http
        self.uploadHTTP = uploadHTTP ?? streamingHTTP ?? http
        self.timeout = .init(timeout)
        addressPolicy = DifyAddressPolicy(allowedNetworks: allowedNetworks)
    }

    public func sendMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyChatAnswer {
        let bytes = try await successBody(
            .POST, target.url("chat-messages"), target: target, body: Self.chatBody(request, mode: "blocking"))
        guard let answer = DifyChatAnswer(decoding: bytes.readableBytesView) else {
            throw DifyError.malformedResponse(
                "could not decode DifyChatAnswer: expected a JSON object with string message_id, conversation_id and answer"
            )
        }
        return answer
    }

    public func streamMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyEventStream {
        var httpRequest = Self.request(
            .POST, target.url("chat-messages"), target: target, body: Self.chatBody(request, mode: "streaming"))
        httpRequest.headers.add(name: "Accept", value: "text/event-stream")
        // The timeout covers the head only; then the streaming client's read timeout bounds each silence.
        let response = try await successHead(httpRequest, to: target, on: streamingHTTP, timeout: timeout)
        let reader = DifyEventReader(body: response.body.makeAsyncIterator())
        return DifyEventStream(unfolding: { try await reader.next() })
    }

    public func stopMessage(taskID: String, user: String, at target: DifyTarget) async throws {
        let _: DifyResult = try await send(
            .POST, target.url("chat-messages/\(Self.pathComponent(taskID))/stop"), target: target,
            body: ["user": .string(user)])
    }

    public func deleteConversation(_ conversationID: String, user: String, at target: DifyTarget) async throws {
        // 204 with no body today; older Dify answered 200 {"result": "success"}.
        let (status, bytes) = try await execute(
            Self.request(
                .DELETE, target.url("conversations/\(Self.pathComponent(conversationID))"),
                target: target, body: ["user": .string(user)]),
            to: target)
        guard (200..<300).contains(status) else { throw Self.upstreamError(status: status, body: bytes) }
    }

    public func renameConversation(
        _ conversationID: String, name: String?, autoGenerate: Bool, user: String, at target: DifyTarget
    ) async throws -> DifyConversation {
        var body: [String: JSONValue] = ["auto_generate": .bool(autoGenerate), "user": .string(user)]
        if let name { body["name"] = .string(name) }
        return try await send(
            .POST, target.url("conversations/\(Self.pathComponent(conversationID))/name"), target: target, body: body)
    }

    public func sendFeedback(
        messageID: String, rating: String?, content: String?, user: String, at target: DifyTarget
    ) async throws {
        var body: [String: JSONValue] = ["rating": rating.map(JSONValue.string) ?? .null, "user": .string(user)]
        if let content { body["content"] = .string(content) }
        let _: DifyResult = try await send(
            .POST, target.url("messages/\(Self.pathComponent(messageID))/feedbacks"), target: target, body: body)
    }

    public func suggestedQuestions(messageID: String, user: String, at target: DifyTarget) async throws -> [String] {
        struct Suggested: Decodable { var data: [String] }
        let answer: Suggested = try await send(
            .GET,
            target.url("messages/\(Self.pathComponent(messageID))/suggested") + Self.queryString([("user", user)]),
            target: target)
        return answer.data
    }

    public func conversations(
        user: String, lastID: String?, limit: Int, at target: DifyTarget
    ) async throws -> DifyPage<DifyConversation> {
        var query = [("user", user), ("limit", String(limit))]
        if let lastID { query.append(("last_id", lastID)) }
        return try await send(.GET, target.url("conversations") + Self.queryString(query), target: target)
    }

    public func messages(
        conversationID: String, user: String, firstID: String?, limit: Int, at target: DifyTarget
    ) async throws -> DifyPage<DifyMessage> {
        var query = [("conversation_id", conversationID), ("user", user), ("limit", String(limit))]
        if let firstID { query.append(("first_id", firstID)) }
        return try await send(.GET, target.url("messages") + Self.queryString(query), target: target)
    }

    public func forward(
        _ request: DifyPassthroughRequest, to target: DifyTarget
    ) async throws -> DifyPassthroughResponse {
        var url = target.url(request.path)
        if !request.query.isEmpty { url += Self.queryString(request.query.map { ($0.name, $0.value) }) }
        var httpRequest = Self.request(request.method, url, target: target)
        switch request.body {
        case .none:
            break
        case .json(let json):
            httpRequest.headers.add(name: "Content-Type", value: "application/json")
            httpRequest.body = .bytes(json.jsonBuffer())
        case .stream(let chunks, let contentType):
            httpRequest.headers.add(name: "Content-Type", value: contentType)
            httpRequest.body = .stream(chunks, length: .unknown)
        }
        let response: HTTPClientResponse
        do {
            if case .stream = request.body {
                // An upload takes as long as the caller takes to send it, so no deadline: the caller's silences
                // are bounded by REQUEST_HEAD_TIMEOUT, Dify's by the streaming client's read timeout.
                response = try await successHead(httpRequest, to: target, on: uploadHTTP, timeout: nil)
            } else {
                response = try await successHead(httpRequest, to: target, on: http, timeout: timeout)
            }
        } catch let refusal as DifyPassthroughRequest.Refusal {
            throw refusal.reason
        }
        let reader = PassthroughBodyReader(body: response.body.makeAsyncIterator())
        return DifyPassthroughResponse(
            status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type"),
            body: AsyncThrowingStream(unfolding: { try await reader.next() }))
    }

    public func checkApp(at target: DifyTarget) async throws {
        let bytes: ByteBuffer
        do {
            bytes = try await successBody(.GET, target.url("info"), target: target, body: nil)
        } catch DifyError.upstream(404, _, _) {
            bytes = try await successBody(.GET, target.url("parameters"), target: target, body: nil)
        }
        guard case .object = try? JSONDecoder().decode(JSONValue.self, from: bytes) else {
            throw DifyError.malformedResponse("the app's info is not a JSON object")
        }
    }

    private struct DifyResult: Decodable { var result: String? }

    static func chatBody(_ request: DifyChatRequest, mode: String) -> [String: JSONValue] {
        var body = request.extra
        body.merge([
            "query": .string(request.query),
            "user": .string(request.user),
            "inputs": .object(request.inputs),
            "response_mode": .string(mode),
        ]) { _, gateways in gateways }
        if let conversationID = request.conversationID { body["conversation_id"] = .string(conversationID) }
        return body
    }

    /// Pulls a passthrough answer's body; `AsyncThrowingStream(unfolding:)` calls `next` serially, never
    /// concurrently, which makes `@unchecked Sendable` sound.
    private final class PassthroughBodyReader: @unchecked Sendable {
        private var body: HTTPClientResponse.Body.AsyncIterator

        init(body: HTTPClientResponse.Body.AsyncIterator) { self.body = body }

        func next() async throws -> ByteBuffer? {
            do { return try await body.next() } catch { throw HTTPDifyClient.transportError(error) }
        }
    }

    static func request(
        _ method: HTTPMethod, _ url: String, target: DifyTarget, body: [String: JSONValue]? = nil
    ) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers = headers(for: target, json: body != nil)
        // `traceparent`: a Dify with tracing of its own joins the caller's trace.
        InstrumentationSystem.instrument.inject(
            ServiceContext.current ?? .topLevel, into: &request.headers, using: HTTPHeadersPropagation())
        if let body { request.body = .bytes(JSONValue.object(body).jsonBuffer()) }
        return request
    }

    /// Dify's app key, and the content type when a JSON body goes with it.
    private static func headers(for target: DifyTarget, json: Bool) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Authorization", value: "Bearer \(target.apiKey)")
        if json { headers.add(name: "Content-Type", value: "application/json") }
        return headers
    }

    private func send<Answer: Decodable>(
        _ method: HTTPMethod, _ url: String, target: DifyTarget, body: [String: JSONValue]? = nil
    ) async throws -> Answer {
        let bytes = try await successBody(method, url, target: target, body: body)
        do {
            return try JSONDecoder().decode(Answer.self, from: bytes)
        } catch {
            throw DifyError.malformedResponse("could not decode \(Answer.self): \(error)")
        }
    }

    /// The body of a 2xx answer; any other status is Dify's error.
    private func successBody(
        _ method: HTTPMethod, _ url: String, target: DifyTarget, body: [String: JSONValue]?
    ) async throws -> ByteBuffer {
        let (status, bytes) = try await execute(Self.request(method, url, target: target, body: body), to: target)
        guard (200..<300).contains(status) else { throw Self.upstreamError(status: status, body: bytes) }
        return bytes
    }

    /// A 2xx answer with its body still to read; any other status is Dify's error.
    private func successHead(
        _ request: HTTPClientRequest, to target: DifyTarget, on client: HTTPClient, timeout: TimeAmount?
    ) async throws -> HTTPClientResponse {
        try await checkAddress(of: target)
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: timeout.map { .now() + $0 } ?? .distantFuture)
        } catch let refusal as DifyPassthroughRequest.Refusal {
            throw refusal
        } catch {
            throw Self.transportError(error)
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let body = (try? await response.body.collect(upTo: maxResponseBytes)) ?? ByteBuffer()
            throw Self.upstreamError(status: status, body: body)
        }
        return response
    }

    private func execute(
        _ request: HTTPClientRequest, to target: DifyTarget
    ) async throws(DifyError) -> (Int, ByteBuffer) {
        try await checkAddress(of: target)
        do {
            let response = try await http.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: maxResponseBytes)
            return (Int(response.status.code), bytes)
        } catch {
            throw Self.transportError(error)
        }
    }

    /// An admin-set URL's host is resolved and checked before every call: DNS may have changed since it was saved.
    private func checkAddress(of target: DifyTarget) async throws(DifyError) {
        guard target.isAdminSet else { return }
        do {
            try await addressPolicy.check(target.baseURL)
        } catch {
            throw .addressRefused(error.description)
        }
    }

    static func transportError(_ error: any Error) -> DifyError {
        if let error = error as? DifyError { return error }
        // Waiting for one of our own pooled connections says nothing about Dify.
        if let error = error as? HTTPClientError, error == .getConnectionFromPoolTimeout { return .busy(retryAfter: 1) }
        if let error = error as? HTTPClientError, [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            return .timeout
        }
        return .unreachable(String(describing: error))
    }

    /// Ids go into paths; percent-encode so an id can never add a path segment or a query.
    static func pathComponent(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_"))) ?? id
    }

    /// Reads Dify's `{code, message, status}`; a proxy's HTML error page is kept as a status only.
    static func upstreamError(status: Int, body: ByteBuffer) -> DifyError {
        // Redirects are never followed, and a 3xx is no answer a client could be given.
        if (300..<400).contains(status) { return .malformedResponse("a redirect (HTTP \(status)), not followed") }
        struct Envelope: Decodable { var code: String?; var message: String? }
        if let envelope = try? JSONDecoder().decode(Envelope.self, from: body) {
            return .upstream(status: status, code: envelope.code, message: envelope.message ?? "")
        }
        return .upstream(status: status, code: nil, message: "non-JSON error body")
    }

    static func queryString(_ items: [(String, String)]) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return "?"
            + items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(
                separator: "&")
    }
}
