import Vapor

/// Writes SSE frames the way Dify's `convert_to_event_stream` does, and keeps the connection
/// alive with `event: ping` when it has been silent for `pingInterval` (counted from the request's start).
final class FakeSSEWriter {
    private let writer: any AsyncBodyStreamWriter
    private let pingInterval: Duration
    private var lastWrite: ContinuousClock.Instant

    init(_ writer: any AsyncBodyStreamWriter, pingInterval: Duration, since start: ContinuousClock.Instant) {
        self.writer = writer
        self.pingInterval = pingInterval
        self.lastWrite = start
    }

    /// Each event is one `data: <compact json>` line and a blank line; a write fails once the client is gone.
    func send(_ json: FakeDifyJSON) async throws {
        try await sendRaw("data: " + json.serialized(.compact) + "\n\n")
    }

    func sendRaw(_ text: String) async throws {
        try await writer.writeBuffer(ByteBuffer(string: text))
        lastWrite = .now
    }

    /// Sleeps `duration` in short slices so a stop is noticed quickly (Dify: within about 1 s)
    /// and pings go out on time. Returns true when the task was stopped.
    func wait(_ duration: Duration, stopped: () async -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + duration
        while true {
            if await stopped() { return true }
            let now = ContinuousClock.now
            if now >= deadline { return false }
            var until = min(deadline, now + .milliseconds(50))
            if pingInterval > .zero {
                if now - lastWrite >= pingInterval {
                    try await sendRaw("event: ping\n\n")
                    continue
                }
                until = min(until, lastWrite + pingInterval)
            }
            try await Task.sleep(until: until, clock: .continuous)
        }
    }
}

extension FakeChatRun {
    func streamingResponse() -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/event-stream; charset=utf-8")
        return Response(status: .ok, headers: headers, body: .init(managedAsyncStream: { writer in
            try await stream(to: FakeSSEWriter(writer, pingInterval: options.pingInterval, since: started))
        }))
    }

    /// `message`×N → `message_end`; stopped: `message`×k → `message_end`; errors: `message`×k → `error`.
    /// Whatever ends the stream, the message keeps the answer produced so far, as in Dify.
    private func stream(to sse: FakeSSEWriter) async throws {
        var produced: [String] = []
        var saved = false
        let stopped = { await store.isStopped(ticket.taskID) }
        do {
            var wasStopped = try await sse.wait(options.latency, stopped: stopped)
            if fault == .malformedJSON {
                saved = true
                await store.finishChat(ticket, answer: "")
                try await sse.sendRaw("data: " + #"{"event":"message","conversation_id":""# + ticket.conversationID + #"","answer":"Ech"# + "\n\n")
                return
            }
            let chunks = self.chunks
            for (index, chunk) in chunks.enumerated() where !wasStopped {
                if try await interruptByFault(at: index, produced: produced, sse: sse) { saved = true; return }
                if index > 0, try await sse.wait(options.tokenDelay, stopped: stopped) { wasStopped = true; break }
                try await sse.send(event("message", [
                    ("task_id", .string(ticket.taskID)), ("id", .string(ticket.messageID)),
                    ("answer", .string(chunk)), ("from_variable_selector", .null),
                ]))
                produced.append(chunk)
            }
            if !wasStopped, try await interruptByFault(at: chunks.count, produced: produced, sse: sse) {
                saved = true
                return
            }
            saved = true
            await store.finishChat(ticket, answer: produced.joined())
            try await sse.send(event("message_end", [
                ("task_id", .string(ticket.taskID)), ("id", .string(ticket.messageID)),
                ("metadata", metadata(completionChunks: produced.count)), ("files", .array([])),
            ]))
        } catch {
            // The client went away (or the cut fault fired): keep what was produced.
            if !saved { await store.finishChat(ticket, answer: produced.joined()) }
            throw error
        }
    }

    /// Applies `.streamCut`/`.streamError` once N chunks (or all, if fewer) have gone out; true when it ended the stream.
    private func interruptByFault(at index: Int, produced: [String], sse: FakeSSEWriter) async throws -> Bool {
        switch fault {
        case .streamCut(let n)? where index >= n:
            // The cut means "the chunks went out, then the connection died": give a client a moment to read them
            // first, or a loaded machine may deliver the reset before the last chunk is read.
            try await Task.sleep(for: .milliseconds(100))
            throw FakeDifyStreamCut()  // the caller's catch saves the partial answer
        case .streamError(let n)? where index >= n:
            await store.finishChat(ticket, answer: produced.joined(), error: FakeDifyFaultTexts.streamErrorMessage)
            try await sse.send(event("error", [
                ("code", .string(FakeDifyFaultTexts.streamErrorCode)),
                ("message", .string(FakeDifyFaultTexts.streamErrorMessage)),
                ("status", .int(FakeDifyFaultTexts.streamErrorStatus)),
            ]))
            return true
        default:
            return false
        }
    }
}
