import NIOCore
import NIOHTTP1

/// One call to Dify's Service API: what `/dify/v1` relays as the client made it (app info, lists, feedback, files,
/// audio; only the `user` differs, the gateway's `{system_id}_{user}`), and what the typed calls of
/// `DifyClient+Calls.swift` send.
public struct DifyPassthroughRequest: Sendable {
    public enum Body: Sendable {
        case none
        case json(JSONValue)
        /// Streamed to Dify as it arrives, never held whole (uploads, audio). The stream throws `Refusal` when
        /// the caller's bytes are refused, which the client passes on as it is: no sign of Dify being down.
        case stream(AsyncThrowingStream<ByteBuffer, any Error>, contentType: String)
    }

    /// How the answer comes back from `forward`.
    public enum Answer: Sendable {
        /// Its body streamed as it arrives: a relay holds nothing whole.
        case streamed
        /// Read whole (at most 16 MiB) before `forward` returns, then passed to `check`, which throws `DifyError`:
        /// a body that breaks off or does not decode fails the call itself, where the breaker and metrics see it.
        case whole(check: @Sendable (ByteBuffer) throws -> Void)
    }

    /// Why a streamed body stopped: the caller's fault (too large, not a form), never the transport's.
    public struct Refusal: Error {
        public let reason: any Error
        public init(_ reason: any Error) { self.reason = reason }
    }

    public var method: HTTPMethod
    /// The route as Dify names it (`files/upload`, `messages/:message_id/suggested`): a bounded metrics label.
    public var endpoint: String
    /// Below `/v1/`, ids already percent-encoded.
    public var path: String
    public var query: [(name: String, value: String)]
    public var body: Body
    public var answer: Answer = .streamed
    /// The conversation the call is about, for its span (never a metrics label).
    public var conversationID: String?
    /// An operator's check goes to Dify even while its circuit is open: it is how they find out.
    public var bypassesBreaker = false

    public init(
        _ method: HTTPMethod, endpoint: String, path: String, query: [(name: String, value: String)] = [],
        body: Body = .none
    ) {
        self.method = method
        self.endpoint = endpoint
        self.path = path
        self.query = query
        self.body = body
    }
}

/// Dify's 2xx answer to a passthrough call, its body streamed as it arrives.
public struct DifyPassthroughResponse: Sendable {
    public var status: Int
    public var contentType: String?
    public var body: AsyncThrowingStream<ByteBuffer, any Error>

    public init(status: Int, contentType: String?, body: AsyncThrowingStream<ByteBuffer, any Error>) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// An answer already read whole.
    public init(status: Int, contentType: String?, whole bytes: ByteBuffer) {
        self.init(
            status: status, contentType: contentType,
            body: AsyncThrowingStream {
                $0.yield(bytes)
                $0.finish()
            })
    }

    /// The whole body, for JSON answers the gateway reads; more than `limit` bytes is a malformed answer.
    public func collect(upTo limit: Int = 16 * 1024 * 1024) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        for try await var chunk in body {
            guard collected.readableBytes + chunk.readableBytes <= limit else {
                throw DifyError.malformedResponse("the answer is larger than \(limit) bytes")
            }
            collected.writeBuffer(&chunk)
        }
        return collected
    }
}
