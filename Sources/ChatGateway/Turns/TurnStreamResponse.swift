import NIOConcurrencyHelpers
import NIOCore
import Vapor

/// One reader's server-sent events: a turn's entries from `after` on, through a wire's encoder, with a keep-alive
/// whenever `keepAlive` passes in silence. The reader never holds up the task reading Dify, and leaving stops
/// only the reader.
struct TurnStream: Sendable {
    let source: any TurnEventSource
    let encoder: any TurnEventEncoder
    let after: Int
    let keepAlive: Duration
    /// Told when the client went away before the stream ended.
    var onClientGone: @Sendable () -> Void = {}

    /// How long an `EventSource` waits before it reconnects, sent in the first frame.
    static let reconnectMilliseconds = 1000

    /// The SSE response: headers right for proxies, then the events.
    func response(headers extra: HTTPHeaders = [:]) -> Response {
        var headers = extra
        headers.contentType = HTTPMediaType(type: "text", subType: "event-stream", parameters: ["charset": "utf-8"])
        headers.replaceOrAdd(name: .cacheControl, value: "no-cache")
        headers.replaceOrAdd(name: "X-Accel-Buffering", value: "no")
        return Response(status: .ok, headers: headers, body: .init(asyncStream: { writer in await write(to: writer) }))
    }

    func write(to writer: any AsyncBodyStreamWriter) async {
        let reader = source.newReader()
        let lastWrite = NIOLockedValueBox(ContinuousClock.now)
        let failure: (any Error)? = await withDiscardingTaskGroup { group in
            group.addTask { await keepAlives(reader: reader, lastWrite: lastWrite) }
            defer { group.cancelAll() }
            var encoder = encoder
            var cursor = after
            var buffer = ByteBuffer()
            // `retry:` goes in the first event's own block: a block of its own is an empty event to some parsers.
            var retryPending = true
            var opened = false
            while true {
                let finished: Bool
                do {
                    let (entries, sourceFinished) = try await source.entries(after: cursor)
                    var events = ByteBuffer()
                    let ended = encoder.encode(entries, into: &events)
                    if retryPending, events.readableBytes > 0 {
                        buffer.writeString("retry: \(Self.reconnectMilliseconds)\n")
                        retryPending = false
                    }
                    buffer.writeBuffer(&events)
                    cursor = entries.last?.id ?? cursor
                    finished = ended || (sourceFinished && entries.isEmpty)
                } catch {
                    return error
                }
                // Something at once, so the response head (with `X-Turn-Id`) leaves before Dify's first event.
                if buffer.readableBytes == 0, !finished,
                    !opened || lastWrite.withLockedValue({ .now - $0 >= keepAlive })
                {
                    buffer.writeString(encoder.keepAlive)
                }
                if buffer.readableBytes > 0 {
                    do {
                        try await writer.write(.buffer(buffer))
                    } catch {
                        onClientGone()
                        return error
                    }
                    lastWrite.withLockedValue { $0 = .now }
                    buffer.clear()
                    opened = true
                }
                if finished { return nil }
                await source.wait(after: cursor, reader: reader)
            }
        }
        // Vapor's writer must be ended either way.
        try? await writer.write(failure.map(BodyStreamResult.error) ?? .end)
    }

    /// Wakes the reader once nothing was written for a whole interval; while a slow write is still in progress it
    /// looks again an interval later rather than at once (it would spin).
    private func keepAlives(reader: Int, lastWrite: NIOLockedValueBox<ContinuousClock.Instant>) async {
        var due = lastWrite.withLockedValue { $0 } + keepAlive
        while true {
            do { try await Task.sleep(until: due, clock: .continuous) } catch { return }
            let last = lastWrite.withLockedValue { $0 }
            if ContinuousClock.now - last >= keepAlive {
                source.wake(reader: reader)
                due = .now + keepAlive
            } else {
                due = last + keepAlive
            }
        }
    }
}
