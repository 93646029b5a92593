import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// Reads one streaming answer for `HTTPDifyClient.openStream`, on the event loop of the connection to Dify:
/// the head settles `opened`; after a 2xx head, bytes go through `DifyStreamParser` straight to the sink.
/// Anything else (a non-2xx head, a failure before the head) fails `opened` and never reaches the sink.
final class DifyStreamDelegate: HTTPClientResponseDelegate, @unchecked Sendable {
    // Every stored `var` is touched on `eventLoop` only (AsyncHTTPClient calls a delegate on the loop it was
    // given with `.delegate(on:)`); that is what makes `@unchecked Sendable` sound.
    typealias Response = Void

    let opened: EventLoopPromise<Void>
    private let sink: any DifyStreamSink
    private let eventLoop: any EventLoop
    private let maxErrorBytes: Int
    private var parser = DifyStreamParser()
    private var state = State.waitingForHead
    private var headTimer: Scheduled<Void>?
    private var headTimedOut = false

    private enum State {
        case waitingForHead
        /// A non-2xx head: its body is Dify's error.
        case refused(status: Int, body: ByteBuffer)
        case streaming
        case over
    }

    init(sink: any DifyStreamSink, eventLoop: any EventLoop, maxErrorBytes: Int) {
        self.sink = sink
        self.eventLoop = eventLoop
        self.maxErrorBytes = maxErrorBytes
        self.opened = eventLoop.makePromise(of: Void.self)
    }

    /// Gives up on a Dify that sends no head within `timeout` (the same limit as a blocking call's head).
    /// Once the head is in, only the client's idle read timeout applies: an answer may stream for minutes.
    func start(_ task: HTTPClient.Task<Void>, headTimeout timeout: TimeAmount) {
        eventLoop.execute { [self] in
            guard case .waitingForHead = state else { return }
            headTimer = eventLoop.scheduleTask(in: timeout) { [self] in
                guard case .waitingForHead = state else { return }
                headTimedOut = true
                task.cancel()
            }
        }
    }

    func didReceiveHead(task: HTTPClient.Task<Void>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        headTimer?.cancel()
        if (200..<300).contains(head.status.code) {
            state = .streaming
            opened.succeed()
        } else {
            state = .refused(status: Int(head.status.code), body: ByteBuffer())
        }
        return eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Void>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        switch state {
        case .streaming:
            for event in parser.feed(buffer.readableBytesView) { sink.receive(event) }
        case .refused(let status, var body):
            var buffer = buffer
            if body.readableBytes < maxErrorBytes { body.writeBuffer(&buffer) }
            state = .refused(status: status, body: body)
        case .waitingForHead, .over:
            break
        }
        return eventLoop.makeSucceededVoidFuture()
    }

    func didFinishRequest(task: HTTPClient.Task<Void>) throws {
        switch state {
        case .streaming:
            for event in parser.finish() { sink.receive(event) }
            state = .over
            sink.end(nil)
        case .refused(let status, let body):
            state = .over
            opened.fail(HTTPDifyClient.upstreamError(status: status, body: body))
        case .waitingForHead, .over:
            break
        }
    }

    func didReceiveError(task: HTTPClient.Task<Void>, _ error: any Error) {
        headTimer?.cancel()
        let failure = headTimedOut ? DifyError.timeout : HTTPDifyClient.transportError(error)
        switch state {
        case .streaming:
            state = .over
            sink.end(failure)
        case .refused(let status, let body):
            state = .over   // Dify's refusal stands even if its error body broke off
            opened.fail(HTTPDifyClient.upstreamError(status: status, body: body))
        case .waitingForHead:
            state = .over
            opened.fail(failure)
        case .over:
            break
        }
    }
}
