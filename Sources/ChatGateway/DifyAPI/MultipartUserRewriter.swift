import NIOConcurrencyHelpers
import Vapor

/// A `multipart/form-data` upload on its way to Dify, read as it arrives: every part passes unchanged except
/// `user`, which becomes the gateway's `{system_id}_{user}` (added when absent, for Dify's `DEFAULT-USER`).
/// `AsyncThrowingStream(unfolding:)` pulls it serially, never concurrently, which makes `@unchecked Sendable` sound.
final class MultipartUserRewriter: @unchecked Sendable {
    /// Turns the client's `user` into Dify's, or throws why the caller may not act as them.
    typealias DifyUser = @Sendable (String?) throws -> String

    private let parser: MultipartParser
    private let boundary: String
    private var body: Request.Body.AsyncIterator
    private let difyUser: DifyUser
    private let limit: Int
    private var received = 0
    private var output = ByteBuffer()
    private var headers: [(name: String, value: String)] = []
    private var headersWritten = false
    private var inUserPart = false
    private var userValue = ByteBuffer()
    private var sawUser = false
    private var finished = false
    private var failure: (any Error)?
    private let refusalBox = NIOLockedValueBox<(any Error)?>(nil)
    private let malformed: DifyAPIError

    /// nil when `contentType` is not multipart with a boundary.
    /// `malformed` is what a body that is not multipart after all is refused as.
    init?(
        contentType: HTTPMediaType?, body: Request.Body, limit: Int, malformed: DifyAPIError,
        difyUser: @escaping DifyUser
    ) {
        guard let contentType, contentType.type == "multipart", let boundary = contentType.parameters["boundary"],
            !boundary.isEmpty
        else { return nil }
        self.boundary = boundary
        self.body = body.makeAsyncIterator()
        self.limit = limit
        self.difyUser = difyUser
        self.malformed = malformed
        parser = MultipartParser(boundary: boundary)
        parser.onHeader = { [unowned self] name, value in headers.append((name, value)) }
        parser.onBody = { [unowned self] chunk in
            writeHeadersOnce()
            if inUserPart { userValue.writeBuffer(&chunk) } else { output.writeBuffer(&chunk) }
        }
        parser.onPartComplete = { [unowned self] in
            writeHeadersOnce()
            if inUserPart { writeUser(String(buffer: userValue)) } else { output.writeString("\r\n") }
            headers = []
            headersWritten = false
            inUserPart = false
            userValue.clear()
        }
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// The rewritten bytes, as a request body.
    var stream: AsyncThrowingStream<ByteBuffer, any Error> {
        AsyncThrowingStream(unfolding: { [self] in
            do { return try await next() } catch {
                refusalBox.withLockedValue { $0 = error }
                throw error
            }
        })
    }

    /// Why the caller's body was refused while it streamed: the answer to give, where the HTTP client that was
    /// sending it reports only that its body failed.
    var refusal: (any Error)? { refusalBox.withLockedValue { $0 } }

    private func next() async throws -> ByteBuffer? {
        while output.readableBytes == 0 {
            if finished { return nil }
            if let chunk = try await body.next() {
                received += chunk.readableBytes
                guard received <= limit else { throw LimitError.bodyTooLarge(limit: limit) }
                do { try parser.execute(chunk) } catch { throw malformed }
            } else {
                if !sawUser { writePart(name: "user", value: try difyUser(nil)) }
                output.writeString("--\(boundary)--\r\n")
                finished = true
            }
            if let failure { throw failure }
        }
        defer { output.clear() }
        return output
    }

    private func writeHeadersOnce() {
        guard !headersWritten else { return }
        headersWritten = true
        let disposition = headers.first { $0.name.lowercased() == "content-disposition" }?.value ?? ""
        inUserPart = disposition.contains(#"name="user""#) && !disposition.contains("filename")
        // The user part is written whole at its end, when its value is known.
        guard !inUserPart else { return }
        output.writeString("--\(boundary)\r\n")
        for (name, value) in headers { output.writeString("\(name): \(value)\r\n") }
        output.writeString("\r\n")
    }

    private func writeUser(_ user: String) {
        sawUser = true
        do { writePart(name: "user", value: try difyUser(user)) } catch { failure = error }
    }

    private func writePart(name: String, value: String) {
        output.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
    }
}
