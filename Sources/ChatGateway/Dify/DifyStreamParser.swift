/// Incremental parser for Dify's streaming answers (`text/event-stream`), fed with bytes as they come off the network.
///
/// Framing follows the SSE spec as Dify uses it (dify-api.md section 3):
/// - lines end in `\n`, `\r\n` or `\r`, in any mix, also when a `\r\n` pair is split between two reads;
/// - an event is the lines up to a blank line; `:` lines are comments; `data:` lines accumulate, joined by `\n`;
///   `event:` names the event; `id:`, `retry:` and unknown fields are ignored; a line without a colon is a field
///   name with an empty value; one space after the colon is dropped;
/// - on the blank line, data is decoded as JSON (`DifyStreamEvent.init(decodingData:eventName:)`, the JSON's
///   `event` field winning over the `event:` line); without data, `event: ping` gives `.ping` and anything else
///   gives nothing (as in the SSE spec);
/// - a UTF-8 byte order mark at the very start of the stream is skipped.
///
/// Bytes are buffered, never strings, so a multi-byte character split between reads comes out intact: text is
/// decoded only from a complete event. Each byte is looked at once (the scan resumes where the last read ended),
/// and memory is bounded by `maxEventBytes`: a longer event is dropped, reported once as `.malformed`, and the
/// parser resynchronises at the next blank line.
public struct DifyStreamParser: Sendable {
    /// The largest event kept: the bytes of its lines (without line endings) summed.
    public let maxEventBytes: Int

    /// The current line, without its ending (empty while discarding).
    private var line: [UInt8] = []
    /// Bytes seen of the current line, also counted while discarding (to recognise a blank line).
    private var lineLength = 0
    /// The last line ended in `\r`: a `\n` right after it (maybe in the next read) belongs to that ending.
    private var afterCR = false
    /// The event's `data:` values joined by `\n`.
    private var data: [UInt8] = []
    private var hasData = false
    /// The event's `event:` value.
    private var eventName: [UInt8]?
    /// Bytes of the current event's lines so far, the partial line included.
    private var eventBytes = 0
    /// The current event outgrew `maxEventBytes`: skip to the next blank line.
    private var discarding = false
    /// Nothing but (a prefix of) a byte order mark has been read yet.
    private var atStreamStart = true
    private var bomMatched = 0

    private static let lf: UInt8 = 0x0A
    private static let cr: UInt8 = 0x0D
    private static let colon: UInt8 = 0x3A
    private static let space: UInt8 = 0x20
    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    /// Buffers grown past this are released after use instead of being kept for the next line or event.
    private static let keptCapacity = 64 * 1024

    public init(maxEventBytes: Int = 4 * 1024 * 1024) {
        self.maxEventBytes = max(1, maxEventBytes)
    }

    /// Feeds the next chunk of bytes as read from the network; returns every event completed by it, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [DifyStreamEvent] {
        feedFrames(bytes).map(DifyStreamEvent.init)
    }

    /// Call at end of stream: returns an event left without its terminating blank line (a stream cut at the
    /// very end still delivers a complete `data:` line), then resets.
    public mutating func finish() -> [DifyStreamEvent] {
        finishFrames().map(DifyStreamEvent.init)
    }

    /// `feed`, before the events' data is decoded.
    mutating func feedFrames(_ bytes: some Sequence<UInt8>) -> [SSEFrame] {
        var events: [SSEFrame] = []
        let handled: Void? = bytes.withContiguousStorageIfAvailable { consume($0, into: &events) }
        if handled == nil {
            Array(bytes).withUnsafeBufferPointer { consume($0, into: &events) }
        }
        return events
    }

    /// `finish`, before the events' data is decoded.
    mutating func finishFrames() -> [SSEFrame] {
        var events: [SSEFrame] = []
        if atStreamStart, bomMatched > 0 {
            // The stream was only the start of a byte order mark: those bytes are content after all.
            let partial = Self.bom[..<bomMatched]
            partial.withUnsafeBufferPointer { appendToLine($0, into: &events) }
        }
        if lineLength > 0 { endLine(into: &events) }
        if !discarding { dispatch(into: &events) }
        self = DifyStreamParser(maxEventBytes: maxEventBytes)
        return events
    }

    /// Bytes held for the event in progress (for tests of the memory bound).
    var bufferedByteCount: Int { line.count + data.count + (eventName?.count ?? 0) }

    // MARK: - Framing

    private mutating func consume(_ buffer: UnsafeBufferPointer<UInt8>, into events: inout [SSEFrame]) {
        var start = 0
        if atStreamStart {
            while start < buffer.count, atStreamStart {
                if buffer[start] == Self.bom[bomMatched] {
                    bomMatched += 1
                    start += 1
                    if bomMatched == Self.bom.count { atStreamStart = false }
                } else {
                    atStreamStart = false
                    if bomMatched > 0 {
                        // Not a byte order mark after all: its bytes so far are content (none is a line ending).
                        Self.bom[..<bomMatched].withUnsafeBufferPointer { appendToLine($0, into: &events) }
                    }
                }
            }
        }
        while start < buffer.count {
            if afterCR {
                afterCR = false
                if buffer[start] == Self.lf {
                    start += 1
                    continue
                }
            }
            var end = start
            while end < buffer.count, buffer[end] != Self.lf, buffer[end] != Self.cr { end += 1 }
            if end > start { appendToLine(UnsafeBufferPointer(rebasing: buffer[start..<end]), into: &events) }
            guard end < buffer.count else { return }
            afterCR = buffer[end] == Self.cr
            endLine(into: &events)
            start = end + 1
        }
    }

    private mutating func appendToLine(_ bytes: UnsafeBufferPointer<UInt8>, into events: inout [SSEFrame]) {
        lineLength += bytes.count
        guard !discarding else { return }
        eventBytes += bytes.count
        guard eventBytes <= maxEventBytes else {
            events.append(.oversized(limit: maxEventBytes))
            discarding = true
            line = []
            resetEvent()
            return
        }
        line.append(contentsOf: bytes)
    }

    private mutating func endLine(into events: inout [SSEFrame]) {
        defer {
            lineLength = 0
            line.removeAll(keepingCapacity: line.capacity <= Self.keptCapacity)
        }
        if lineLength == 0 {
            if discarding {
                discarding = false
                resetEvent()
            } else {
                dispatch(into: &events)
            }
        } else if !discarding {
            processField()
        }
    }

    private mutating func processField() {
        guard let first = line.first, first != Self.colon else { return }  // a comment
        let colonIndex = line.firstIndex(of: Self.colon)
        let nameEnd = colonIndex ?? line.endIndex
        var valueStart = colonIndex.map { $0 + 1 } ?? line.endIndex
        if valueStart < line.endIndex, line[valueStart] == Self.space { valueStart += 1 }
        let name = line[..<nameEnd]
        if name.elementsEqual("data".utf8) {
            if hasData { data.append(Self.lf) }
            data.append(contentsOf: line[valueStart...])
            hasData = true
        } else if name.elementsEqual("event".utf8) {
            eventName = Array(line[valueStart...])
        }
        // `id`, `retry` and unknown fields: Dify sends none, and nothing here needs them.
    }

    private mutating func dispatch(into events: inout [SSEFrame]) {
        defer { resetEvent() }
        let name = eventName.map { String(decoding: $0, as: UTF8.self) }
        if hasData {
            events.append(.data(name: name, bytes: data))
        } else if name == "ping" {
            events.append(.ping)
        }
    }

    private mutating func resetEvent() {
        data.removeAll(keepingCapacity: data.capacity <= Self.keptCapacity)
        hasData = false
        eventName = nil
        eventBytes = 0
    }
}

/// One dispatched SSE event, before its data is decoded: framing and decoding are tested apart.
enum SSEFrame: Hashable, Sendable {
    /// The event's `data:` lines joined by `\n`, and its `event:` line if any.
    case data(name: String?, bytes: [UInt8])
    /// `event: ping` without data.
    case ping
    /// An event longer than the parser's `maxEventBytes`, dropped.
    case oversized(limit: Int)
}

extension DifyStreamEvent {
    init(_ frame: SSEFrame) {
        switch frame {
        case .data(let name, let bytes): self.init(decodingData: bytes, eventName: name)
        case .ping: self = .ping
        case .oversized(let limit): self = .malformed("event exceeds \(limit) bytes")
        }
    }
}
