import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import ChatGateway

@Suite("Chat service and stream relay, against a stub Dify", .hangLimit)
struct ChatServiceTests {
    static let caller = CallerIdentity(systemID: "drillquiz", userID: "u1")
    static let ids = DifyStreamIDs(
        taskID: "task-1", messageID: "msg-1", conversationID: "0f6b2c1e-4a5d-4e8f-9b7a-123456789abc")

    /// A `ChatService` on the harness's database whose Dify is `stub`.
    static func service(
        _ gateway: GatewayHarness, _ stub: StubDifyClient, keepAlive: Duration = .seconds(2)
    ) -> ChatService {
        ChatService(
            dify: stub,
            targets: DifyTargetResolver(sharedBaseURL: URL(string: "http://dify.invalid"), sharedAPIKey: "app-x"),
            store: ConversationStore(database: gateway.app.db, now: Date.init), streams: ChatStreamRegistry(),
            metrics: GatewayMetrics(isKnownSystem: { _ in true }), budgets: nil,
            limits: .init(maxMessageCharacters: 100, streamKeepAlive: keepAlive), holder: "test-process")
    }

    /// Streams `message` and reads what the client gets, until the relay is done.
    static func streamed(_ service: ChatService, client: RecordingWriter = RecordingWriter()) async throws -> String {
        let turn = try await service.stream(
            "hello", conversationID: nil, inputs: [:], as: caller, logger: .init(label: "test"))
        await read(turn, into: client)
        _ = await service.streams.drain(until: .now + .seconds(10))
        return client.text
    }

    /// What the client that started `turn` is sent.
    static func read(_ turn: RunningTurn, into client: RecordingWriter) async {
        await TurnStream(
            source: turn.log, encoder: GatewayEventEncoder(turnID: turn.id), after: 0, keepAlive: .seconds(10),
            onClientGone: { turn.clientLeft() }
        ).write(to: client)
    }

    @Test func aStreamIsRelayedAndStoredComplete() async throws {
        try await GatewayHarness.with { gateway in
            let stub = StubDifyClient(events: [
                .answerDelta(Self.ids, text: "Hi "), .answerDelta(Self.ids, text: "there"),
                .messageEnd(Self.ids, metadata: .object(["usage": .object([:])])),
                .other(event: "tts_message_end", payload: .null),
            ])
            let text = try await Self.streamed(Self.service(gateway, stub))
            #expect(
                text.contains("event: start") && text.contains("event: done") && text.contains(#""answer":"Hi there""#))
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.map(\.messageID) == ["msg-1_user", "msg-1_assistant"])
            #expect(stored.map(\.status) == [.complete, .complete])
            #expect(stored.last?.content == "Hi there")
            #expect(stored.last?.taskID == "task-1")
        }
    }

    @Test func aStreamCutMidAnswerIsStoredFailedWithWhatArrived() async throws {
        try await GatewayHarness.with { gateway in
            let stub = StubDifyClient(events: [.answerDelta(Self.ids, text: "partial")], endsWith: DifyError.timeout)
            let text = try await Self.streamed(Self.service(gateway, stub))
            #expect(text.contains("event: error") && !text.contains("event: done"))
            let answer = try #require(try await gateway.messages(system: "drillquiz", user: "u1").last)
            #expect(answer.status == .failed)
            #expect(answer.content == "partial")
        }
    }

    @Test func aClientThatLeavesChangesNothingStored() async throws {
        try await GatewayHarness.with { gateway in
            let stub = StubDifyClient(
                events: [
                    .answerDelta(Self.ids, text: "one "), .answerDelta(Self.ids, text: "two"),
                    .messageEnd(Self.ids, metadata: nil),
                ],
                pause: .milliseconds(100))
            let service = Self.service(gateway, stub)
            _ = try await Self.streamed(service, client: RecordingWriter(failWrites: true))
            let answer = try #require(try await gateway.messages(system: "drillquiz", user: "u1").last)
            #expect(answer.status == .complete)
            #expect(answer.content == "one two")
            let metrics = String(
                decoding: service.metrics.exposition(streamsActive: 0, openCircuits: [:], process: nil), as: UTF8.self)
            #expect(metrics.contains(#"chatgw_chats_total{system="drillquiz",mode="stream",outcome="client_gone"} 1"#))
        }
    }

    @Test func aRefusalWithinTheGraceIsThrownAndTheMessageKept() async throws {
        try await GatewayHarness.with { gateway in
            let stub = StubDifyClient(refusal: .upstream(status: 429, code: "too_many_requests", message: "slow down"))
            // A grace far longer than the refusal could take, however slow the machine.
            await #expect(throws: DifyError.self) {
                _ = try await Self.streamed(Self.service(gateway, stub, keepAlive: .seconds(60)))
            }
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.count == 1)
            #expect(stored.first?.status == .failed)
            #expect(stored.first?.content == "hello")
        }
    }

    @Test func aRefusalAfterTheGraceArrivesAsAnErrorEvent() async throws {
        try await GatewayHarness.with { gateway in
            let stub = StubDifyClient(
                // Long after the 50 ms grace, however late the grace's timer starts.
                refusal: .upstream(status: 404, code: "not_found", message: "gone"), headDelay: .seconds(3))
            let text = try await Self.streamed(Self.service(gateway, stub, keepAlive: .milliseconds(50)))
            #expect(text.contains("event: error") && text.contains(#""code":"not_found""#))
            #expect(try await gateway.messages(system: "drillquiz", user: "u1").first?.status == .failed)
        }
    }

    @Test func aBlockingFailureKeepsTheUsersMessage() async throws {
        try await GatewayHarness.with { gateway in
            let stub = StubDifyClient(refusal: .unreachable("connection refused"))
            await #expect(throws: DifyError.self) {
                _ = try await Self.service(gateway, stub).send(
                    "hello", conversationID: nil, inputs: [:], as: Self.caller, logger: .init(label: "test"))
            }
            let stored = try await gateway.messages(system: "drillquiz", user: "u1")
            #expect(stored.map(\.status) == [.failed])
            #expect(stored.first?.error?.isEmpty == false)
        }
    }
}

/// A Dify that streams scripted events (or refuses), for the service and relay tests.
struct StubDifyClient: DifyClient {
    var events: [DifyStreamEvent] = []
    /// Thrown by the stream after its events (a stream that breaks); nil: it ends normally.
    var endsWith: DifyError? = nil
    /// Thrown instead of answering at all.
    var refusal: DifyError? = nil
    var headDelay: Duration = .zero
    var pause: Duration = .zero

    func streamMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyEventStream {
        try await Task.sleep(for: headDelay)
        if let refusal { throw refusal }
        let (events, endsWith, pause) = (events, endsWith, pause)
        return DifyEventStream { continuation in
            Task {
                for event in events {
                    try? await Task.sleep(for: pause)
                    continuation.yield(event)
                }
                continuation.finish(throwing: endsWith)
            }
        }
    }

    /// Answers the blocking chat only.
    func forward(_ request: DifyPassthroughRequest, to target: DifyTarget) async throws -> DifyPassthroughResponse {
        guard request.method == .POST, request.endpoint == "chat-messages" else {
            throw DifyError.malformedResponse("not part of this stub")
        }
        if let refusal { throw refusal }
        let answer = JSONValue.object([
            "message_id": .string("msg-1"), "conversation_id": .string("0f6b2c1e-4a5d-4e8f-9b7a-123456789abc"),
            "answer": .string("ok"),
        ])
        return DifyPassthroughResponse(status: 200, contentType: "application/json", whole: answer.jsonBuffer())
    }
}
