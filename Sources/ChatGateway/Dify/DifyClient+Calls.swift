import Foundation
import NIOCore

/// The calls the gateway makes to Dify, each one request through `forward` and its answer decoded: a new call
/// is one more method here, and the breaker and the metrics wrap it already.
extension DifyClient {
    public func sendMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyChatAnswer {
        var call = DifyPassthroughRequest(
            .POST, endpoint: "chat-messages", path: "chat-messages",
            body: .json(.object(request.jsonBody(responseMode: "blocking"))))
        call.conversationID = request.conversationID
        return try await send(call, to: target) { bytes in
            guard let answer = DifyChatAnswer(decoding: bytes.readableBytesView) else {
                throw DifyError.malformedResponse(
                    "could not decode DifyChatAnswer: expected a JSON object with string message_id, conversation_id and answer"
                )
            }
            return answer
        }
    }

    public func stopMessage(taskID: String, user: String, at target: DifyTarget) async throws {
        let _: DifyResult = try await send(
            DifyPassthroughRequest(
                .POST, endpoint: "chat-messages/:task_id/stop", path: "chat-messages/\(pathComponent(taskID))/stop",
                body: .json(.object(["user": .string(user)]))),
            to: target)
    }

    public func conversations(
        user: String, lastID: String?, limit: Int, at target: DifyTarget
    ) async throws -> DifyPage<DifyConversation> {
        var query = [(name: "user", value: user), ("limit", String(limit))]
        if let lastID { query.append(("last_id", lastID)) }
        return try await send(
            DifyPassthroughRequest(.GET, endpoint: "conversations", path: "conversations", query: query), to: target)
    }

    public func messages(
        conversationID: String, user: String, firstID: String?, limit: Int, at target: DifyTarget
    ) async throws -> DifyPage<DifyMessage> {
        var query = [(name: "conversation_id", value: conversationID), ("user", user), ("limit", String(limit))]
        if let firstID { query.append(("first_id", firstID)) }
        var call = DifyPassthroughRequest(.GET, endpoint: "messages", path: "messages", query: query)
        call.conversationID = conversationID
        return try await send(call, to: target)
    }

    public func deleteConversation(_ conversationID: String, user: String, at target: DifyTarget) async throws {
        var call = DifyPassthroughRequest(
            .DELETE, endpoint: "conversations/:conversation_id", path: "conversations/\(pathComponent(conversationID))",
            body: .json(.object(["user": .string(user)])))
        call.conversationID = conversationID
        // 204 with no body today; older Dify answered 200 {"result": "success"}.
        try await send(call, to: target) { _ in }
    }

    /// Deletes a conversation whether or not Dify still has it, each attempt retried under `retry`: true when this
    /// call deleted it, false when it was gone already (404).
    func deleteConversationIfPresent(
        _ conversationID: String, user: String, at target: DifyTarget, retry: RetryPolicy
    ) async throws -> Bool {
        do {
            try await retry.run { try await deleteConversation(conversationID, user: user, at: target) }
            return true
        } catch DifyError.upstream(404, _, _) {
            return false
        }
    }

    public func renameConversation(
        _ conversationID: String, name: String?, autoGenerate: Bool, user: String, at target: DifyTarget
    ) async throws -> DifyConversation {
        var body: [String: JSONValue] = ["auto_generate": .bool(autoGenerate), "user": .string(user)]
        if let name { body["name"] = .string(name) }
        var call = DifyPassthroughRequest(
            .POST, endpoint: "conversations/:conversation_id/name",
            path: "conversations/\(pathComponent(conversationID))/name", body: .json(.object(body)))
        call.conversationID = conversationID
        return try await send(call, to: target)
    }

    public func sendFeedback(
        messageID: String, rating: String?, content: String?, user: String, at target: DifyTarget
    ) async throws {
        var body: [String: JSONValue] = ["rating": rating.map(JSONValue.string) ?? .null, "user": .string(user)]
        if let content { body["content"] = .string(content) }
        let _: DifyResult = try await send(
            DifyPassthroughRequest(
                .POST, endpoint: "messages/:message_id/feedbacks",
                path: "messages/\(pathComponent(messageID))/feedbacks",
                body: .json(.object(body))),
            to: target)
    }

    public func suggestedQuestions(messageID: String, user: String, at target: DifyTarget) async throws -> [String] {
        let answer: DifySuggested = try await send(
            DifyPassthroughRequest(
                .GET, endpoint: "messages/:message_id/suggested",
                path: "messages/\(pathComponent(messageID))/suggested",
                query: [("user", user)]),
            to: target)
        return answer.data
    }

    /// Succeeds when the app answers `GET /info` (or `GET /parameters`, for a Dify without `/info`) with its key.
    public func checkApp(at target: DifyTarget) async throws {
        func check(_ endpoint: String) async throws {
            var call = DifyPassthroughRequest(.GET, endpoint: endpoint, path: endpoint)
            call.bypassesBreaker = true
            try await send(call, to: target) { bytes in
                guard case .object = try? JSONDecoder().decode(JSONValue.self, from: bytes) else {
                    throw DifyError.malformedResponse("the app's info is not a JSON object")
                }
            }
        }
        do {
            try await check("info")
        } catch DifyError.upstream(404, _, _) {
            try await check("parameters")
        }
    }

    /// `request`'s answer as `decode` reads it. `decode` runs inside `forward` too, so an answer that does not
    /// decode fails the call where the metrics see it.
    func send<Answer>(
        _ request: DifyPassthroughRequest, to target: DifyTarget,
        decoding decode: @escaping @Sendable (ByteBuffer) throws -> Answer
    ) async throws -> Answer {
        var request = request
        request.answer = .whole { _ = try decode($0) }
        return try decode(try await forward(request, to: target).collect())
    }

    /// `request`'s JSON answer; one that is not an `Answer` is `.malformedResponse`.
    func send<Answer: Decodable & Sendable>(
        _ request: DifyPassthroughRequest, to target: DifyTarget
    ) async throws -> Answer {
        try await send(request, to: target) { bytes in
            do {
                return try JSONDecoder().decode(Answer.self, from: bytes)
            } catch {
                throw DifyError.malformedResponse("could not decode \(Answer.self): \(error)")
            }
        }
    }
}

/// What stop and feedback answer: `{"result": "success"}`.
private struct DifyResult: Decodable { var result: String? }

/// The suggested questions' answer.
private struct DifySuggested: Decodable { var data: [String] }

/// Ids go into paths; percent-encode so an id can never add a path segment or a query.
private func pathComponent(_ id: String) -> String {
    id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_"))) ?? id
}
