import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Reads a gateway chat stream over real HTTP, one SSE event at a time, so a test can stop reading
/// (and drop the connection) at any point.
final class SSETestClient: @unchecked Sendable {
    struct Event {
        let name: String
        let data: [String: Any]
        let receivedAt: ContinuousClock.Instant
        /// The event's SSE `id:`.
        var id: Int? = nil
    }

    let status: Int
    let headers: HTTPHeaders
    private var iterator: HTTPClientResponse.Body.AsyncIterator?
    private var buffer = ""
    private(set) var rawText = ""

    private init(status: Int, headers: HTTPHeaders, iterator: HTTPClientResponse.Body.AsyncIterator) {
        self.status = status
        self.headers = headers
        self.iterator = iterator
    }

    /// POSTs `json` (or GETs, without it) and returns once the response head arrived.
    static func open(_ url: String, headers: [(String, String)] = [], json: Any? = nil) async throws -> SSETestClient {
        var request = HTTPClientRequest(url: url)
        request.method = json == nil ? .GET : .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: json)))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        return SSETestClient(
            status: Int(response.status.code), headers: response.headers, iterator: response.body.makeAsyncIterator())
    }

    /// The next event, or nil at the end of the stream. Comments (keep-alives) are skipped but kept in `rawText`.
    func next() async throws -> Event? {
        while true {
            if let range = buffer.range(of: "\n\n") {
                let block = String(buffer[..<range.lowerBound])
                buffer.removeSubrange(..<range.upperBound)
                var name = "message"
                var data = ""
                var id: Int?
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("id: ") {
                        id = Int(line.dropFirst(4))
                    } else if line.hasPrefix("event: ") {
                        name = String(line.dropFirst(7))
                    } else if line.hasPrefix("data: ") {
                        data += line.dropFirst(6)
                    }
                }
                if data.isEmpty { continue }
                let object = try JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] ?? [:]
                return Event(name: name, data: object, receivedAt: .now, id: id)
            }
            guard var chunk = try await iterator?.next() else { return nil }
            let text = chunk.readString(length: chunk.readableBytes) ?? ""
            rawText += text
            buffer += text
        }
    }

    func readAll() async throws -> [Event] {
        var events: [Event] = []
        while let event = try await next() { events.append(event) }
        return events
    }

    /// Drops the connection mid-stream, as a closed browser tab does.
    func disconnect() { iterator = nil }
}
