import AsyncHTTPClient
import NIOCore

/// Turns the body of Dify's streaming answer into events, pulled one at a time by the stream's single reader.
final class DifyEventReader: @unchecked Sendable {
    // `DifyEventStream(unfolding:)` calls `next` serially, never concurrently: that makes `@unchecked Sendable` sound.
    private var body: HTTPClientResponse.Body.AsyncIterator
    private var parser = DifyStreamParser()
    private var ready: [DifyStreamEvent] = []
    private var nextReady = 0
    private var bodyEnded = false

    init(body: HTTPClientResponse.Body.AsyncIterator) {
        self.body = body
    }

    func next() async throws -> DifyStreamEvent? {
        while nextReady == ready.count {
            if bodyEnded { return nil }
            let chunk: ByteBuffer?
            do {
                chunk = try await body.next()
            } catch {
                throw HTTPDifyClient.transportError(error)
            }
            if let chunk {
                ready = parser.feed(chunk.readableBytesView)
            } else {
                ready = parser.finish()
                bodyEnded = true
            }
            nextReady = 0
        }
        defer { nextReady += 1 }
        return ready[nextReady]
    }
}
