import NIOCore

extension DifyEventStream {
    /// Decodes Dify's SSE bytes into events, pulling the next chunk only when the consumer asks
    /// (no buffering beyond one network read). A body that ends after its last event finishes the stream.
    static func decoding<Body: AsyncSequence & Sendable>(
        _ body: Body, mapError: @escaping @Sendable (any Error) -> any Error
    ) -> DifyEventStream where Body.Element == ByteBuffer {
        let state = DecodingState(iterator: body.makeAsyncIterator())
        return DifyEventStream(unfolding: { try await state.next(mapError: mapError) })
    }
}

/// The iterator, parser and events decoded but not yet handed out. `AsyncThrowingStream(unfolding:)`
/// calls `next` from one consumer at a time, which is what makes the unchecked sendability sound.
private final class DecodingState<Iterator: AsyncIteratorProtocol>: @unchecked Sendable where Iterator.Element == ByteBuffer {
    private var iterator: Iterator
    private var parser = DifyStreamParser()
    private var ready: [DifyStreamEvent] = []
    private var readyIndex = 0
    private var ended = false

    init(iterator: Iterator) { self.iterator = iterator }

    func next(mapError: (any Error) -> any Error) async throws -> DifyStreamEvent? {
        while readyIndex == ready.count {
            if ended { return nil }
            ready.removeAll(keepingCapacity: true)
            readyIndex = 0
            do {
                if let chunk = try await iterator.next() {
                    ready = parser.feed(chunk.readableBytesView)
                } else {
                    ended = true
                    ready = parser.finish()
                }
            } catch {
                throw mapError(error)
            }
        }
        defer { readyIndex += 1 }
        return ready[readyIndex]
    }
}
