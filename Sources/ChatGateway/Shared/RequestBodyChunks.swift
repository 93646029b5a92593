import NIOCore
import Vapor

/// A streamed request body read as an async sequence of chunks, with back-pressure on the connection.
/// Vapor's own `Request.Body` sequence traps when a demand signal arrives after the write it was meant for had
/// already been let go on (vapor/vapor#3153): its producer's first signal can be late. Here a signal that finds no
/// write waiting is dropped, which is safe because the producer only waits after being told to stop, and the
/// signal that answers that stop is queued on the event loop behind it.
enum RequestBodyChunks {
    typealias Producer = NIOThrowingAsyncSequenceProducer<
        ByteBuffer, any Error, NIOAsyncSequenceProducerBackPressureStrategies.HighLowWatermark, Demand
    >

    /// Starts draining `body` into a sequence read through the returned iterator; call it once per request.
    static func iterator(of body: Request.Body, on eventLoop: any EventLoop) -> Producer.AsyncIterator {
        let demand = Demand(eventLoop: eventLoop)
        let producer = Producer.makeSequence(
            elementType: ByteBuffer.self, failureType: (any Error).self,
            backPressureStrategy: .init(lowWatermark: 5, highWatermark: 20), finishOnDeinit: true,
            delegate: demand)
        let source = producer.source
        body.drain { result in
            switch result {
            case .buffer(let buffer):
                switch source.yield(buffer) {
                case .produceMore: return eventLoop.makeSucceededVoidFuture()
                case .stopProducing: return demand.wait()
                case .dropped: return eventLoop.makeFailedFuture(CancellationError())
                }
            case .error(let error):
                source.finish(error)
            case .end:
                source.finish()
            }
            return eventLoop.makeSucceededVoidFuture()
        }
        return producer.sequence.makeAsyncIterator()
    }

    /// The reader's demand, told to the body's writer. Its state is only touched on `eventLoop`, which makes
    /// `@unchecked Sendable` sound.
    final class Demand: NIOAsyncSequenceProducerDelegate, @unchecked Sendable {
        private let eventLoop: any EventLoop
        private var waiting: EventLoopPromise<Void>?
        private var terminated = false

        init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

        /// What the writer waits on after being told to stop.
        func wait() -> EventLoopFuture<Void> {
            eventLoop.preconditionInEventLoop()
            if terminated { return eventLoop.makeFailedFuture(CancellationError()) }
            if let waiting { return waiting.futureResult }
            let promise = eventLoop.makePromise(of: Void.self)
            waiting = promise
            return promise.futureResult
        }

        func produceMore() {
            eventLoop.execute {
                let promise = self.waiting
                self.waiting = nil
                promise?.succeed()
            }
        }

        func didTerminate() {
            eventLoop.execute {
                self.terminated = true
                let promise = self.waiting
                self.waiting = nil
                promise?.fail(CancellationError())
            }
        }
    }
}
