import NIOCore
import Vapor

/// A `multipart/form-data` upload on its way to Dify, read as it arrives and written anew: every part's content
/// passes unchanged except `user`'s, which becomes the gateway's `{system_id}_{user}` (added when absent, for Dify's
/// `DEFAULT-USER`). Dify reads forms with werkzeug, so nothing werkzeug could read otherwise than this scanner
/// reaches it: the parts go out under a random boundary of the gateway's own, each with a `Content-Disposition`
/// written by the gateway and at most a `Content-Type`, and a header werkzeug might read differently is refused.
/// It splits the body itself: MultipartKit's parser traps on a non-ASCII byte in a header name.
/// `AsyncThrowingStream(unfolding:)` pulls it serially, never concurrently, which makes `@unchecked Sendable` sound.
final class MultipartUserRewriter: @unchecked Sendable {
    /// Turns the client's `user` into Dify's, or throws why the caller may not act as them.
    typealias DifyUser = @Sendable (String?) throws -> String
    /// The byte limit of a file part, given its field and file name, or a refusal of the file.
    typealias FileLimit = @Sendable (_ field: String, _ filename: String) throws -> Int

    private enum State {
        /// Before the first boundary: ignored, as RFC 2046 says.
        case preamble
        /// Just past a boundary: `--` ends the form, else the rest of the line is padding.
        case afterBoundary
        case headers
        case body(isUser: Bool)
        /// After the closing boundary: ignored.
        case epilogue
    }

    /// A header block or a `user` value larger than this is no form a client sends.
    static let maxHeaderBytes = 16 * 1024
    static let maxUserBytes = 4 * 1024
    /// After the first `rateGrace`, an upload must have averaged this: a sender slower than that holds a
    /// connection to Dify for nothing.
    static let minimumBytesPerSecond = 8 * 1024
    static let rateGrace: TimeInterval = 30

    /// The one the gateway writes: never the client's, so no boundary hidden in a part can split what Dify reads.
    private let boundary = "chat-gateway-" + String.randomHex(bytes: 24)
    /// `CRLF--boundary` of the client's boundary: what ends every part's body (the body starts with a CRLF put
    /// before the first one).
    private let delimiter: [UInt8]
    private var body: RequestBodyChunks.Producer.AsyncIterator
    private let difyUser: DifyUser
    private let fileLimit: FileLimit?
    private var partBytes = 0
    private var partLimit = Int.max
    private let limit: Int
    /// The setting that makes `limit`, which a refusal names.
    private let limitVariable: String
    private let now: @Sendable () -> Date
    private let started: Date
    private let malformed: DifyAPIError
    private var received = 0
    private var pending = ByteBuffer(string: "\r\n")
    private var output = ByteBuffer()
    private var state = State.preamble
    private var userValue = ByteBuffer()
    private var sawUser = false
    private var finished = false

    /// nil when `contentType` is not multipart with a boundary; throws for a boundary outside RFC 2046's characters.
    /// `malformed` is what a body that is not a readable form after all is refused as.
    init?(
        contentType: HTTPMediaType?, body: Request.Body, on eventLoop: any EventLoop, limit: Int,
        limitVariable: String = "MAX_UPLOAD_BYTES", now: @escaping @Sendable () -> Date,
        malformed: DifyAPIError, fileLimit: FileLimit? = nil, difyUser: @escaping DifyUser
    ) throws(DifyAPIError) {
        guard let contentType, contentType.type == "multipart", let boundary = contentType.parameters["boundary"]
        else { return nil }
        guard Self.isBoundary(boundary) else {
            throw .invalidParameter("the multipart boundary must be 1 to 70 of RFC 2046's characters")
        }
        delimiter = Array("\r\n--\(boundary)".utf8)
        self.body = RequestBodyChunks.iterator(of: body, on: eventLoop)
        self.limit = limit
        self.limitVariable = limitVariable
        self.now = now
        started = now()
        self.malformed = malformed
        self.difyUser = difyUser
        self.fileLimit = fileLimit
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// The rewritten bytes, as a request body; what the caller's bytes are refused for ends it as a `Refusal`.
    var stream: AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream(unfolding: { [self] in
            do { return try await next() } catch { throw DifyPassthroughRequest.Refusal(error) }
        })
    }

    private func next() async throws -> ByteBuffer? {
        while output.readableBytes == 0 {
            if finished { return nil }
            if var chunk = try await body.next() {
                received += chunk.readableBytes
                guard received <= limit else {
                    throw LimitError.bodyTooLarge(limit: limit, variable: limitVariable)
                }
                let elapsed = now().timeIntervalSince(started)
                guard elapsed <= Self.rateGrace || Double(received) >= elapsed * Double(Self.minimumBytesPerSecond)
                else { throw LimitError.uploadTooSlow(bytesPerSecond: Self.minimumBytesPerSecond) }
                pending.writeBuffer(&chunk)
                try scan()
                // What was scanned is gone from memory: only the undecided tail stays.
                pending.discardReadBytes()
            } else {
                guard case .epilogue = state else { throw malformed }
                if !sawUser { writePart(name: "user", value: try difyUser(nil)) }
                output.writeString("--\(boundary)--\r\n")
                finished = true
            }
        }
        defer { output.clear() }
        return output
    }

    /// Moves what `pending` holds as far as it can be decided, leaving only what the next chunk may complete.
    private func scan() throws {
        while true {
            let view = pending.readableBytesView
            switch state {
            case .preamble:
                guard let found = view.firstRange(of: delimiter) else { return try keepTail(emitting: false) }
                pending.moveReaderIndex(forwardBy: found.upperBound - view.startIndex)
                state = .afterBoundary
            case .afterBoundary:
                guard view.count >= 2 else { return }
                if view.starts(with: "--".utf8) {
                    state = .epilogue
                    continue
                }
                guard let lineEnd = view.firstRange(of: "\r\n".utf8) else {
                    guard view.count <= Self.maxHeaderBytes else { throw malformed }
                    return
                }
                pending.moveReaderIndex(forwardBy: lineEnd.upperBound - view.startIndex)
                state = .headers
            case .headers:
                let block: NIOCore.ByteBufferView
                if view.starts(with: "\r\n".utf8) {
                    block = view[view.startIndex..<view.startIndex]
                    pending.moveReaderIndex(forwardBy: 2)
                } else if let end = view.firstRange(of: "\r\n\r\n".utf8) {
                    block = view[view.startIndex..<end.lowerBound]
                    pending.moveReaderIndex(forwardBy: end.upperBound - view.startIndex)
                } else {
                    guard view.count <= Self.maxHeaderBytes else { throw malformed }
                    return
                }
                try startPart(headers: block)
            case .body(let isUser):
                guard let found = view.firstRange(of: delimiter) else { return try keepTail(emitting: true) }
                var content = pending.readSlice(length: found.lowerBound - view.startIndex)!
                pending.moveReaderIndex(forwardBy: delimiter.count)
                if isUser {
                    try collectUser(&content)
                    writePart(name: "user", value: try difyUser(String(buffer: userValue)))
                } else {
                    try emit(&content)
                    output.writeString("\r\n")
                }
                state = .afterBoundary
            case .epilogue:
                pending.clear()
                return
            }
        }
    }

    /// Passes on (or, for `user`, collects) all but the bytes that may begin a boundary the next chunk completes.
    private func keepTail(emitting: Bool) throws {
        let decided = pending.readableBytes - (delimiter.count - 1)
        guard decided > 0 else { return }
        var content = pending.readSlice(length: decided)!
        guard emitting else { return }
        if case .body(isUser: true) = state {
            try collectUser(&content)
        } else {
            try emit(&content)
        }
    }

    private func emit(_ content: inout ByteBuffer) throws {
        partBytes += content.readableBytes
        guard partBytes <= partLimit else { throw MediaError.fileTooLarge(limit: partLimit) }
        output.writeBuffer(&content)
    }

    private func collectUser(_ content: inout ByteBuffer) throws {
        guard userValue.readableBytes + content.readableBytes <= Self.maxUserBytes else {
            throw DifyAPIError.invalidParameter("user is too long")
        }
        userValue.writeBuffer(&content)
    }

    /// Reads a part's header block and writes the part's head anew, unless it is the `user` field.
    private func startPart(headers block: NIOCore.ByteBufferView) throws {
        guard let head = Self.partHead(block) else { throw malformed }
        // Every part named `user` is the user field, a file or not: werkzeug may read it as the field.
        let isUser = head.name == "user"
        if isUser {
            // Dify reads the first `user`; a second would let the client's own value be the one Dify keeps.
            guard !sawUser else { throw DifyAPIError.invalidParameter("only one user field is allowed") }
            sawUser = true
            userValue.clear()
        } else {
            partBytes = 0
            partLimit = try head.filename.map { try fileLimit?(head.name, $0) ?? Int.max } ?? Int.max
            output.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(head.name)\"")
            if let filename = head.filename { output.writeString("; filename=\"\(filename)\"") }
            output.writeString("\r\n")
            if let type = head.contentType { output.writeString("Content-Type: \(type)\r\n") }
            output.writeString("\r\n")
        }
        state = .body(isUser: isUser)
    }

    /// What the gateway forwards of a part's header block.
    struct PartHead: Equatable {
        var name: String
        var filename: String?
        var contentType: String?
    }

    /// A part's header block read strictly: header names are tokens, values hold no control character, and
    /// `Content-Disposition` (once, as `form-data` with a `name`) and `Content-Type` (at most once) are the headers
    /// kept; nil for anything else werkzeug might read differently.
    static func partHead(_ block: NIOCore.ByteBufferView) -> PartHead? {
        var disposition: String?
        var contentType: String?
        for line in block.split(separator: Array("\r\n".utf8), omittingEmptySubsequences: false) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[..<colon].allSatisfy(Self.isTokenByte),
                !line[line.index(after: colon)...].contains(where: { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F })
            else { return nil }
            let value = String(decoding: line[line.index(after: colon)...], as: UTF8.self)
                .trimmingCharacters(in: .whitespaces)
            switch String(decoding: line[..<colon], as: UTF8.self).lowercased() {
            case "content-disposition":
                guard disposition == nil else { return nil }
                disposition = value
            case "content-type":
                guard contentType == nil, !value.isEmpty, !value.contains("\"") else { return nil }
                contentType = value
            default: continue
            }
        }
        guard let disposition, let field = formField(disposition), let name = field.name else { return nil }
        return PartHead(name: name, filename: field.filename, contentType: contentType)
    }

    /// A part's field name and file name from `form-data; name="…"; filename="…"`, read by RFC 9110's rules for
    /// parameters; nil for what werkzeug would read otherwise or what the gateway could not write back as it is: a
    /// parameter without `=`, spaces around `=`, an empty value, an unclosed quote, a backslash or quote in a value,
    /// `name*` or `filename*` and continuations (`name*0`), a parameter given twice.
    static func formField(_ disposition: String) -> (name: String?, filename: String?)? {
        var rest = Substring(disposition)
        let typeEnd = rest.firstIndex(of: ";") ?? rest.endIndex
        guard rest[..<typeEnd].trimmingCharacters(in: .whitespaces).lowercased() == "form-data" else { return nil }
        rest = rest[typeEnd...]
        var parameters: [String: String] = [:]
        while !rest.isEmpty {
            guard rest.first == ";" else { return nil }
            rest = rest.dropFirst().drop(while: { $0 == " " || $0 == "\t" })
            let key = rest.prefix(while: { $0.isASCII && isTokenByte($0.asciiValue!) && $0 != "*" })
            rest = rest.dropFirst(key.count)
            guard !key.isEmpty, rest.first == "=" else { return nil }
            rest = rest.dropFirst()
            let value: Substring
            if rest.first == "\"" {
                guard let close = rest.dropFirst().firstIndex(of: "\"") else { return nil }
                value = rest[rest.index(after: rest.startIndex)..<close]
                rest = rest[rest.index(after: close)...]
            } else {
                value = rest.prefix(while: { $0.isASCII && isTokenByte($0.asciiValue!) })
                rest = rest.dropFirst(value.count)
            }
            rest = rest.drop(while: { $0 == " " || $0 == "\t" })
            let name = key.lowercased()
            guard !value.isEmpty, !value.contains("\\"), parameters[name] == nil else { return nil }
            parameters[name] = String(value)
        }
        return (parameters["name"], parameters["filename"])
    }

    /// RFC 2046's `boundary`: 1 to 70 of its characters, not ending in a space.
    static func isBoundary(_ text: String) -> Bool {
        let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ")
        return (1...70).contains(text.count) && text.allSatisfy(allowed.contains) && text.last != " "
    }

    /// RFC 9110's `tchar`.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private func writePart(name: String, value: String) {
        output.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
    }
}
