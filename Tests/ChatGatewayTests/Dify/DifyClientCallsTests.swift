import Foundation
import NIOCore
import Testing

@testable import ChatGateway

/// The typed calls as the one request each makes through `forward`: its route (the metrics label), path, query and
/// body, how its answer is read, and what a Dify answer that does not fit becomes.
@Suite("Dify client calls", .hangLimit)
struct DifyClientCallsTests {
    static let target = DifyTarget(baseURL: URL(string: "http://dify.test")!, apiKey: "app-key")

    @Test func eachCallIsOneRequestNamedByItsRoute() async throws {
        // given
        let dify = RecordingDify()
        let chat = DifyChatRequest(query: "hi", user: "u", conversationID: "c1", inputs: [:])
        // when
        _ = try await dify.sendMessage(chat, to: Self.target)
        try await dify.stopMessage(taskID: "t/1", user: "u", at: Self.target)
        _ = try await dify.conversations(user: "u", lastID: "c0", limit: 5, at: Self.target)
        _ = try await dify.messages(conversationID: "c1", user: "u", firstID: nil, limit: 5, at: Self.target)
        try await dify.deleteConversation("c1?x", user: "u", at: Self.target)
        _ = try await dify.renameConversation("c1", name: nil, autoGenerate: true, user: "u", at: Self.target)
        try await dify.sendFeedback(messageID: "m1", rating: "like", content: nil, user: "u", at: Self.target)
        _ = try await dify.suggestedQuestions(messageID: "m1", user: "u", at: Self.target)
        // then
        let sent = dify.requests.map { "\($0.method) \($0.endpoint) \($0.path)\(Self.query($0))" }
        #expect(
            sent == [
                "POST chat-messages chat-messages",
                "POST chat-messages/:task_id/stop chat-messages/t%2F1/stop",
                "GET conversations conversations?user=u&limit=5&last_id=c0",
                "GET messages messages?conversation_id=c1&user=u&limit=5",
                "DELETE conversations/:conversation_id conversations/c1%3Fx",
                "POST conversations/:conversation_id/name conversations/c1/name",
                "POST messages/:message_id/feedbacks messages/m1/feedbacks",
                "GET messages/:message_id/suggested messages/m1/suggested?user=u",
            ])
        // The span's conversation, where the call is about one.
        #expect(dify.requests.map(\.conversationID) == ["c1", nil, nil, "c1", "c1?x", "c1", nil, nil])
        #expect(dify.requests.allSatisfy { !$0.bypassesBreaker })
        guard case .json(.object(let body)) = dify.requests[0].body else {
            Issue.record("the chat went without its JSON body")
            return
        }
        #expect(body["response_mode"] == .string("blocking") && body["conversation_id"] == .string("c1"))
    }

    @Test func anAnswerThatDoesNotDecodeIsMalformedWithinTheCall() async throws {
        // given
        let dify = RecordingDify(bodies: ["conversations": #"{"data": "not a list"}"#])
        // when
        let error = await #expect(throws: DifyError.self) {
            try await dify.conversations(user: "u", lastID: nil, limit: 5, at: Self.target)
        }
        // then: the same check runs inside `forward`, where the breaker and the metrics see it
        guard case .malformedResponse(let reason)? = error, case .whole(let check) = dify.requests.first?.answer else {
            Issue.record("expected a malformed answer read whole, got \(String(describing: error))")
            return
        }
        #expect(reason.hasPrefix("could not decode DifyPage<DifyConversation>"))
        #expect(throws: DifyError.self) { try check(ByteBuffer(string: "<html>")) }
    }

    @Test func theAppCheckFallsBackToParametersAndBypassesTheBreaker() async throws {
        // given: a Dify without `/info`
        let dify = RecordingDify(bodies: ["parameters": "{}"], failing: ["info": 404])
        // when
        try await dify.checkApp(at: Self.target)
        // then
        #expect(dify.requests.map(\.endpoint) == ["info", "parameters"])
        #expect(dify.requests.map(\.bypassesBreaker) == [true, true])
        let notAnObject = RecordingDify(bodies: ["info": "[]"])
        await #expect(throws: DifyError.malformedResponse("the app's info is not a JSON object")) {
            try await notAnObject.checkApp(at: Self.target)
        }
    }

    static func query(_ request: DifyPassthroughRequest) -> String {
        request.query.isEmpty ? "" : "?" + request.query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
    }
}

/// A Dify that records each request and answers it with a canned JSON body, or an error status, by route.
final class RecordingDify: DifyClient, @unchecked Sendable {
    static let answers = [
        "chat-messages": #"{"message_id": "m1", "conversation_id": "c1", "answer": "ok"}"#,
        "conversations": #"{"has_more": false, "data": []}"#,
        "messages": #"{"has_more": false, "data": []}"#,
        "conversations/:conversation_id/name": #"{"id": "c1", "name": "Named"}"#,
        "messages/:message_id/suggested": #"{"data": ["why?"]}"#,
    ]
    private let lock = NSLock()
    private var sent: [DifyPassthroughRequest] = []
    let bodies: [String: String]
    let failing: [String: Int]

    init(bodies: [String: String] = [:], failing: [String: Int] = [:]) {
        self.bodies = Self.answers.merging(bodies) { _, given in given }
        self.failing = failing
    }

    var requests: [DifyPassthroughRequest] { lock.withLock { sent } }

    func forward(_ request: DifyPassthroughRequest, to target: DifyTarget) async throws -> DifyPassthroughResponse {
        lock.withLock { sent.append(request) }
        if let status = failing[request.endpoint] { throw DifyError.upstream(status: status, code: nil, message: "") }
        let body = ByteBuffer(string: bodies[request.endpoint] ?? #"{"result": "success"}"#)
        return DifyPassthroughResponse(status: 200, contentType: "application/json", whole: body)
    }

    func streamMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyEventStream {
        throw DifyError.malformedResponse("not part of this stub")
    }
}
