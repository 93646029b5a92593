import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Talks to Dify's Service API over HTTP, relying only on what `shared/dify/` documents.
public struct HTTPDifyClient: DifyClient {
    private let http: HTTPClient
    private let timeout: TimeAmount
    private let maxResponseBytes = 16 * 1024 * 1024

    public init(http: HTTPClient, timeout: Duration) {
        self.http = http
        self.timeout = .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
    }

    public func sendMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyChatAnswer {
        var body: [String: JSONValue] = [
            "query": .string(request.query),
            "user": .string(request.user),
            "inputs": .object(request.inputs),
            "response_mode": .string("blocking"),
        ]
        if let conversationID = request.conversationID { body["conversation_id"] = .string(conversationID) }
        return try await send(.POST, target.url("chat-messages"), target: target, body: body)
    }

    public func conversations(user: String, lastID: String?, limit: Int, at target: DifyTarget) async throws -> DifyPage<DifyConversation> {
        var query = [("user", user), ("limit", String(limit))]
        if let lastID { query.append(("last_id", lastID)) }
        return try await send(.GET, target.url("conversations") + Self.queryString(query), target: target)
    }

    public func messages(conversationID: String, user: String, firstID: String?, limit: Int, at target: DifyTarget) async throws -> DifyPage<DifyMessage> {
        var query = [("conversation_id", conversationID), ("user", user), ("limit", String(limit))]
        if let firstID { query.append(("first_id", firstID)) }
        return try await send(.GET, target.url("messages") + Self.queryString(query), target: target)
    }

    private func send<Answer: Decodable>(
        _ method: HTTPMethod, _ url: String, target: DifyTarget, body: [String: JSONValue]? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(target.apiKey)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        }
        let (status, bytes) = try await execute(request)
        guard (200..<300).contains(status) else { throw Self.upstreamError(status: status, body: bytes) }
        do {
            return try JSONDecoder().decode(Answer.self, from: bytes)
        } catch {
            throw DifyError.malformedResponse("could not decode \(Answer.self): \(error)")
        }
    }

    private func execute(_ request: HTTPClientRequest) async throws(DifyError) -> (Int, ByteBuffer) {
        do {
            let response = try await http.execute(request, timeout: timeout)
            let bytes = try await response.body.collect(upTo: maxResponseBytes)
            return (Int(response.status.code), bytes)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw .timeout
        } catch {
            throw .unreachable(String(describing: error))
        }
    }

    /// Reads Dify's `{code, message, status}`; a proxy's HTML error page is kept as a status only.
    static func upstreamError(status: Int, body: ByteBuffer) -> DifyError {
        struct Envelope: Decodable { var code: String?; var message: String? }
        if let envelope = try? JSONDecoder().decode(Envelope.self, from: body) {
            return .upstream(status: status, code: envelope.code, message: envelope.message ?? "")
        }
        return .upstream(status: status, code: nil, message: "non-JSON error body")
    }

    static func queryString(_ items: [(String, String)]) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+?#")
        return "?" + items.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.1)" }.joined(separator: "&")
    }
}
