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

    public func streamMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyEventStream {
        var httpRequest = Self.request(
            .POST, target.url("chat-messages"), target: target, body: request.jsonBody(responseMode: "streaming"))
        httpRequest.headers.add(name: "Accept", value: "text/event-stream")
        // The timeout covers the head only; then the streaming client's read timeout bounds each silence.
        let response = try await successHead(httpRequest, to: target, on: streamingHTTP, timeout: timeout)
        let reader = DifyEventReader(body: response.body.makeAsyncIterator())
        return DifyEventStream(unfolding: { try await reader.next() })
    }

    public func forward(
        _ request: DifyPassthroughRequest, to target: DifyTarget
    ) async throws -> DifyPassthroughResponse {
        var url = target.url(request.path)
        if !request.query.isEmpty { url += Self.queryString(request.query.map { ($0.name, $0.value) }) }
        var httpRequest = Self.request(request.method, url, target: target)
        var (client, headTimeout): (HTTPClient, TimeAmount?) = (http, timeout)
        switch request.body {
        case .none:
            break
        case .json(let json):
            httpRequest.headers.add(name: "Content-Type", value: "application/json")
            httpRequest.body = .bytes(json.jsonBuffer())
        case .stream(let chunks, let contentType):
            httpRequest.headers.add(name: "Content-Type", value: contentType)
            httpRequest.body = .stream(chunks, length: .unknown)
            // An upload takes as long as the caller takes to send it, so no deadline: the caller's silences
            // are bounded by REQUEST_HEAD_TIMEOUT, Dify's by the streaming client's read timeout.
            (client, headTimeout) = (uploadHTTP, nil)
        }
        do {
            switch request.answer {
            case .streamed:
                let response = try await successHead(httpRequest, to: target, on: client, timeout: headTimeout)
                let reader = PassthroughBodyReader(body: response.body.makeAsyncIterator())
                return DifyPassthroughResponse(
                    status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type"),
                    body: AsyncThrowingStream(unfolding: { try await reader.next() }))
            case .whole(let check):
                let (response, bytes) = try await wholeAnswer(httpRequest, to: target, on: client, timeout: headTimeout)
                let status = Int(response.status.code)
                guard (200..<300).contains(status) else { throw Self.upstreamError(status: status, body: bytes) }
                try check(bytes)
                return DifyPassthroughResponse(
                    status: status, contentType: response.headers.first(name: "Content-Type"), whole: bytes)
            }
        } catch let refusal as DifyPassthroughRequest.Refusal {
            throw refusal.reason
        }
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

    /// A 2xx answer with its body still to read; any other status is Dify's error.
    private func successHead(
        _ request: HTTPClientRequest, to target: DifyTarget, on client: HTTPClient, timeout: TimeAmount?
    ) async throws -> HTTPClientResponse {
        let response = try await head(request, to: target, on: client, timeout: timeout)
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let body = (try? await response.body.collect(upTo: maxResponseBytes)) ?? ByteBuffer()
            throw Self.upstreamError(status: status, body: body)
        }
        return response
    }

    /// The answer and its whole body, whatever its status: a body that breaks off fails like a head that does.
    private func wholeAnswer(
        _ request: HTTPClientRequest, to target: DifyTarget, on client: HTTPClient, timeout: TimeAmount?
    ) async throws -> (HTTPClientResponse, ByteBuffer) {
        let response = try await head(request, to: target, on: client, timeout: timeout)
        do {
            return (response, try await response.body.collect(upTo: maxResponseBytes))
        } catch {
            throw Self.transportError(error)
        }
    }

    /// The answer's head; `timeout` bounds the wait for it, not for the body.
    private func head(
        _ request: HTTPClientRequest, to target: DifyTarget, on client: HTTPClient, timeout: TimeAmount?
    ) async throws -> HTTPClientResponse {
        try await checkAddress(of: target)
        do {
            return try await client.execute(request, deadline: timeout.map { .now() + $0 } ?? .distantFuture)
        } catch let refusal as DifyPassthroughRequest.Refusal {
            throw refusal
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
