import NIOCore
import NIOPosix
import Testing

@testable import ChatGateway

/// The upload reader's back-pressure, in the order that made Vapor's own body sequence trap (vapor/vapor#3153):
/// the reader's first signal reaches the event loop only after the writer was told to stop.
@Suite("Request body chunks", .hangLimit)
struct RequestBodyChunksTests {
    @Test func aLateFirstSignalLetsTheWriterOnAndTheSignalAfterItFindsNothingToWake() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let demand = RequestBodyChunks.Demand(eventLoop: loop)
        // The signal is queued first and runs after the wait, as when the reader's first `next` raced the writer.
        try await loop.flatSubmit {
            demand.produceMore()
            return demand.wait()
        }.get()
        // The signal that answered the writer's stop: nothing waits for it any more.
        demand.produceMore()
        let later = try await loop.submit { demand.wait() }.get()
        demand.produceMore()
        try await later.get()
    }

    @Test func aReaderThatStopsFailsTheWaitingWriteAndEveryLaterOne() async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let demand = RequestBodyChunks.Demand(eventLoop: loop)
        let waiting = try await loop.submit { demand.wait() }.get()
        demand.didTerminate()
        await #expect(throws: CancellationError.self) { try await waiting.get() }
        let later = try await loop.submit { demand.wait() }.get()
        await #expect(throws: CancellationError.self) { try await later.get() }
    }
}
