import NIOCore
import Vapor

extension FakeChatRun {
    func streamingResponse() -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/event-stream; charset=utf-8")
        return Response(
            status: .ok, headers: headers,
            body: .init(stream: { writer in
                FakeSSEStream(run: self, writer: writer).start()
            }))
    }
}

/// One streaming answer: `message`×N → `message_end`; stopped: `message`×k → `message_end`; errors: `message`×k → `error`.
/// Whatever ends the stream, the message keeps the answer produced so far, as in Dify.
///
/// Frames are written the way Dify's `convert_to_event_stream` does (`data: <compact json>` and a blank line), with
/// `event: ping` whenever the stream has been silent for `pingInterval` (counted from the request's start).
///
/// Driven by timers on the connection's event loop rather than by a task: a task sleeping between tokens and
/// awaiting each write cost several thread hand-offs per token, which at a thousand concurrent streams made the
/// fake, not the client under test, the busiest process on the machine.
final class FakeSSEStream: @unchecked Sendable {
    // Every stored `var` is read and written on `eventLoop` only; that is what makes `@unchecked Sendable` sound.
    private let run: FakeChatRun
    private let writer: any BodyStreamWriter
    private let eventLoop: any EventLoop
    private let chunks: [String]
    private var produced: [String] = []
    private var lastWrite: ContinuousClock.Instant
    /// The answer went to the store (or is on its way there); nothing more to save.
    private var saved = false
    /// The response is over (ended, failed, or the client went away); pending timers do nothing.
    private var over = false

    /// How often a wait looks at the stop flag: a stop is noticed within this (Dify: within about 1 s).
    private static let stopCheckInterval = Duration.milliseconds(250)

    init(run: FakeChatRun, writer: any BodyStreamWriter) {
        self.run = run
        self.writer = writer
        self.eventLoop = writer.eventLoop
        self.chunks = run.chunks
        self.lastWrite = run.started
    }

    func start() {
        wait(run.options.latency) { [self] in
            if run.fault == .malformedJSON {
                save(answer: "") { [self] in
                    send(
                        raw: "data: " + #"{"event":"message","conversation_id":""# + run.ticket.conversationID
                            + #"","answer":"Ech"# + "\n\n")
                    end()
                }
            } else {
                step(0)
            }
        }
    }

    /// Chunk `index` next: an injected fault may end the stream here; chunks after the first wait the token delay.
    private func step(_ index: Int) {
        guard index < chunks.count else {
            if !interruptedByFault(at: index) { complete() }
            return
        }
        if interruptedByFault(at: index) { return }
        let send = { [self] in
            self.send(
                run.event(
                    "message",
                    [
                        ("task_id", .string(run.ticket.taskID)), ("id", .string(run.ticket.messageID)),
                        ("answer", .string(chunks[index])), ("from_variable_selector", .null),
                    ]))
            produced.append(chunks[index])
            step(index + 1)
        }
        if index == 0 { send() } else { wait(run.options.tokenDelay, then: send) }
    }

    /// Saves what was produced, then `message_end` (also after a stop).
    private func complete() {
        save(answer: produced.joined()) { [self] in
            send(
                run.event(
                    "message_end",
                    [
                        ("task_id", .string(run.ticket.taskID)), ("id", .string(run.ticket.messageID)),
                        ("metadata", run.metadata(completionChunks: produced.count)), ("files", .array([])),
                    ]))
            end()
        }
    }

    /// Applies `.streamCut`/`.streamError` once N chunks (or all, if fewer) have gone out; true when it ends the stream.
    private func interruptedByFault(at index: Int) -> Bool {
        switch run.fault {
        case .streamCut(let n)? where index >= n:
            // The cut means "the chunks went out, then the connection died": give a client a moment to read them
            // first, or a loaded machine may deliver the reset before the last chunk is read.
            eventLoop.scheduleTask(in: .milliseconds(100)) { [self] in
                guard !over else { return }
                save(answer: produced.joined())
                fail(FakeDifyStreamCut())
            }
            return true
        case .streamError(let n)? where index >= n:
            save(answer: produced.joined(), error: FakeDifyFaultTexts.streamErrorMessage) { [self] in
                send(
                    run.event(
                        "error",
                        [
                            ("code", .string(FakeDifyFaultTexts.streamErrorCode)),
                            ("message", .string(FakeDifyFaultTexts.streamErrorMessage)),
                            ("status", .int(FakeDifyFaultTexts.streamErrorStatus)),
                        ]))
                end()
            }
            return true
        default:
            return false
        }
    }

    /// Waits `duration`, looking at the stop flag every `stopCheckInterval` and sending pings on time, then runs `next`;
    /// a stop ends the answer early with what was produced.
    private func wait(_ duration: Duration, then next: @escaping () -> Void) {
        let deadline = ContinuousClock.now + duration
        func look() {
            guard !over else { return }
            if run.store.isStopped(run.ticket.taskID) { return complete() }
            let now = ContinuousClock.now
            if now >= deadline { return next() }
            var until = min(deadline, now + Self.stopCheckInterval)
            let ping = run.options.pingInterval
            if ping > .zero {
                if now - lastWrite >= ping {
                    send(raw: "event: ping\n\n")
                    return look()
                }
                until = min(until, lastWrite + ping)
            }
            eventLoop.assumeIsolated().scheduleTask(in: .init(until - now)) { look() }
        }
        look()
    }

    private func send(_ json: FakeDifyJSON) {
        var frame = Array("data: ".utf8)
        json.write(to: &frame, style: .compact)
        frame.append(contentsOf: "\n\n".utf8)
        send(ByteBuffer(bytes: frame))
    }

    private func send(raw text: String) {
        send(ByteBuffer(string: text))
    }

    private func send(_ frame: ByteBuffer) {
        guard !over else { return }
        lastWrite = .now
        let written = eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { [self] error in
            // The client went away: keep what was produced, and stop generating.
            guard !over else { return }
            save(answer: produced.joined())
            fail(error)
        }
        writer.write(.buffer(frame), promise: written)
    }

    private func end() {
        guard !over else { return }
        over = true
        writer.write(.end, promise: nil)
    }

    private func fail(_ error: any Error) {
        guard !over else { return }
        over = true
        writer.write(.error(error), promise: nil)
    }

    /// Stores the answer once (the store is an actor), then continues on the event loop.
    private func save(answer: String, error: String? = nil, then next: (() -> Void)? = nil) {
        guard !saved else { next?(); return }
        saved = true
        let (store, ticket, eventLoop) = (run.store, run.ticket, eventLoop)
        let next = next.map { NIOLoopBound($0, eventLoop: eventLoop) }
        Task {
            await store.finishChat(ticket, answer: answer, error: error)
            if let next { eventLoop.execute { next.value() } }
        }
    }
}
