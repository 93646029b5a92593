/// One streaming answer's events, in Dify's order. It ends when Dify closes the stream and throws a `DifyError`
/// when the stream breaks (`.timeout` after the idle timeout). Dify's own errors arrive as `.error` events.
public typealias DifyEventStream = AsyncThrowingStream<DifyStreamEvent, any Error>

/// The seam between the gateway and Dify's Service API. `HTTPDifyClient` is the live one;
/// unit tests pass stubs, end-to-end tests point the live one at `FakeDify` over loopback.
/// Two primitives, so the breaker and the metrics wrap each once; the typed calls (`DifyClient+Calls.swift`)
/// are built on `forward`. Every method throws `DifyError` only.
public protocol DifyClient: Sendable {
    /// Sends one call, its answer streamed or read whole as `request.answer` says; a non-2xx answer throws
    /// `DifyError.upstream` with Dify's code and message.
    func forward(_ request: DifyPassthroughRequest, to target: DifyTarget) async throws -> DifyPassthroughResponse
    /// Starts a streaming answer and returns its events once Dify has accepted it (a 2xx head). Errors Dify reports
    /// before the stream starts (404, 429, validation) are thrown here.
    func streamMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyEventStream
}

extension DifyClient {
    /// Every conversation of `user`, following `last_id` while `has_more` (the seed read only the first 20).
    /// Each page is retried on its own under `retry`, so a rate limit on page 7 does not restart from page 1.
    public func allConversations(
        user: String, at target: DifyTarget, pageSize: Int = 100, retry: RetryPolicy = .once
    ) async throws -> [DifyConversation] {
        var all: [DifyConversation] = []
        var lastID: String?
        while true {
            let page = try await retry.run { [lastID] in
                try await conversations(user: user, lastID: lastID, limit: pageSize, at: target)
            }
            all += page.data
            guard page.hasMore, let last = page.data.last?.id, last != lastID else { return all }
            lastID = last
        }
    }

    /// Every turn of a conversation, oldest first, scrolling back with `first_id` while `has_more`; each page retried on its own.
    public func allMessages(
        conversationID: String, user: String, at target: DifyTarget, pageSize: Int = 100, retry: RetryPolicy = .once
    ) async throws -> [DifyMessage] {
        var pages: [[DifyMessage]] = []
        var firstID: String?
        while true {
            let page = try await retry.run { [firstID] in
                try await messages(
                    conversationID: conversationID, user: user, firstID: firstID, limit: pageSize, at: target)
            }
            pages.append(page.data)
            guard page.hasMore, let first = page.data.first?.id, first != firstID else { break }
            firstID = first
        }
        return pages.reversed().flatMap { $0 }
    }
}
