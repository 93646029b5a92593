import NIOCore
import Vapor

/// A `multipart/form-data` upload on its way to Dify, read as it arrives: every part passes unchanged except
/// `user`, which becomes the gateway's `{system_id}_{user}` (added when absent, for Dify's `DEFAULT-USER`).
/// It splits the body itself, on the boundary and each part's header block: MultipartKit's parser traps on a
/// non-ASCII byte in a header name, which would let one request stop the process.
/// `AsyncThrowingStream(unfolding:)` pulls it serially, never concurrently, which makes `@unchecked Sendable` sound.
final class MultipartUserRewriter: @unchecked Sendable {
    /// Turns the client's `user` into Dify's, or throws why the caller may not act as them.
    typealias DifyUser = @Sendable (String?) throws -> String

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

    private let boundary: String
    /// `CRLF--boundary`: what ends every part's body (the body starts with a CRLF put before the first one).
    private let delimiter: [UInt8]
    private var body: Request.Body.AsyncIterator
    private let difyUser: DifyUser
    private let limit: Int
    private let malformed: DifyAPIError
    private var received = 0
    private var pending = ByteBuffer(string: "\r\n")
    private var output = ByteBuffer()
    private var state = State.preamble
    private var userValue = ByteBuffer()
    private var sawUser = false
    private var finished = false

    /// nil when `contentType` is not multipart with a boundary.
    /// `malformed` is what a body that is not a readable form after all is refused as.
    init?(
        contentType: HTTPMediaType?, body: Request.Body, limit: Int, malformed: DifyAPIError,
        difyUser: @escaping DifyUser
    ) {
        guard let contentType, contentType.type == "multipart", let boundary = contentType.parameters["boundary"],
            !boundary.isEmpty, boundary.utf8.count <= 70
        else { return nil }
        self.boundary = boundary
        delimiter = Array("\r\n--\(boundary)".utf8)
        self.body = body.makeAsyncIterator()
        self.limit = limit
        self.malformed = malformed
        self.difyUser = difyUser
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
                    throw LimitError.bodyTooLarge(limit: limit, variable: "MAX_UPLOAD_BYTES")
                }
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
                    output.writeBuffer(&content)
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
            output.writeBuffer(&content)
        }
    }

    private func collectUser(_ content: inout ByteBuffer) throws {
        guard userValue.readableBytes + content.readableBytes <= Self.maxUserBytes else {
            throw DifyAPIError.invalidParameter("user is too long")
        }
        userValue.writeBuffer(&content)
    }

    /// Checks a part's header block (names must be header tokens) and writes it, unless it is the `user` field.
    private func startPart(headers block: NIOCore.ByteBufferView) throws {
        var dispositions: [String] = []
        for line in block.split(separator: Array("\r\n".utf8)) {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex,
                line[..<colon].allSatisfy(Self.isTokenByte)
            else { throw malformed }
            if String(decoding: line[..<colon], as: UTF8.self).lowercased() == "content-disposition" {
                dispositions.append(String(decoding: line[line.index(after: colon)...], as: UTF8.self))
            }
        }
        guard dispositions.count <= 1, let field = Self.formField(dispositions.first ?? "") else { throw malformed }
        let isUser = field.name == "user" && !field.isFile
        if isUser {
            // Dify reads the first `user`; a second would let the client's own value be the one Dify keeps.
            guard !sawUser else { throw DifyAPIError.invalidParameter("only one user field is allowed") }
            sawUser = true
            userValue.clear()
        } else {
            output.writeString("--\(boundary)\r\n")
            output.writeBytes(block)
            if !block.isEmpty { output.writeString("\r\n") }
            output.writeString("\r\n")
        }
        state = .body(isUser: isUser)
    }

    /// A part's field name and whether it is a file, read as werkzeug reads `Content-Disposition` (parameter names
    /// in any case); nil for what the two might read differently (`name*` or `filename*`, a name given twice).
    static func formField(_ disposition: String) -> (name: String?, isFile: Bool)? {
        var name: String?
        var isFile = false
        for item in disposition.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            let key = pair[0].trimmingCharacters(in: .whitespaces).lowercased()
            let value = pair.count > 1 ? pair[1].trimmingCharacters(in: .whitespaces) : ""
            switch key {
            case "name":
                guard name == nil else { return nil }
                name =
                    value.count >= 2 && value.hasPrefix("\"") && value.hasSuffix("\"")
                    ? String(value.dropFirst().dropLast()) : value
            case "filename": isFile = true
            case "name*", "filename*": return nil
            default: continue
            }
        }
        return (name, isFile)
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
