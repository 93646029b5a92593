import Foundation
import Logging
import NIOCore
import Testing

@testable import ChatGateway

/// The breaker's states on a hand-moved clock: closed → open after N failures in a row → half-open trial.
@Suite("UpstreamCircuitBreaker", .hangLimit)
struct UpstreamCircuitBreakerTests {
    static func breaker(
        threshold: Int = 3, cooldown: TimeInterval = 30, clock: TestClock, log: LogCapture = LogCapture()
    ) -> UpstreamCircuitBreaker {
        UpstreamCircuitBreaker(
            threshold: threshold, cooldown: cooldown, now: clock.now,
            logger: Logger(label: "breaker") { _ in CapturingLogHandler(capture: log) })
    }

    static func fail(_ breaker: UpstreamCircuitBreaker, times: Int) async throws {
        for _ in 0..<times { await breaker.record(.down, permit: try await breaker.admit()) }
    }

    /// A default breaker (3 failures, 30 s) opened by three failures, then `elapsed` seconds later.
    static func opened(thenAfter elapsed: TimeInterval) async throws -> (UpstreamCircuitBreaker, TestClock, LogCapture)
    {
        let clock = TestClock()
        let log = LogCapture()
        let breaker = Self.breaker(clock: clock, log: log)
        try await fail(breaker, times: 3)
        clock.advance(by: elapsed)
        return (breaker, clock, log)
    }

    @Test func opensAfterNConsecutiveFailuresAndThenFailsFast() async throws {
        // given
        let clock = TestClock()
        let log = LogCapture()
        let breaker = Self.breaker(clock: clock, log: log)
        // when
        try await Self.fail(breaker, times: 2)
        #expect(try await breaker.admit() == .normal)
        await breaker.record(.down, permit: .normal)
        // then
        clock.advance(by: 10)
        await #expect(throws: DifyError.circuitOpen(failures: 3, retryAfter: 20)) { try await breaker.admit() }
        clock.advance(by: 19.5)
        await #expect(throws: DifyError.circuitOpen(failures: 3, retryAfter: 1)) { try await breaker.admit() }
        #expect(
            log.lines.contains {
                $0.hasPrefix("warning Dify circuit opened") && $0.contains("failures=3") && $0.contains("cooldown_s=30")
            })
    }

    @Test func anAnswerInBetweenStartsTheCountAgain() async throws {
        let breaker = Self.breaker(clock: TestClock())
        try await Self.fail(breaker, times: 2)
        await breaker.record(.answered, permit: try await breaker.admit())
        try await Self.fail(breaker, times: 2)
        #expect(await breaker.state == .closed(failures: 2))
        #expect(try await breaker.admit() == .normal)
    }

    @Test func afterTheCooldownOneTrialGoesThroughAndItsSuccessCloses() async throws {
        // given
        let (breaker, _, log) = try await Self.opened(thenAfter: 30)
        // when
        let trial = try await breaker.admit()
        // then: one trial at a time
        #expect(trial == .trial)
        await #expect(throws: DifyError.circuitOpen(failures: 3, retryAfter: 1)) { try await breaker.admit() }
        await breaker.record(.answered, permit: trial)
        #expect(await breaker.state == .closed(failures: 0))
        #expect(try await breaker.admit() == .normal)
        #expect(log.lines.contains { $0.hasPrefix("notice Dify circuit closed") })
    }

    @Test func aFailedTrialReopensForAnotherCooldown() async throws {
        let (breaker, clock, log) = try await Self.opened(thenAfter: 31)
        await breaker.record(.down, permit: try await breaker.admit())
        await #expect(throws: DifyError.circuitOpen(failures: 4, retryAfter: 30)) { try await breaker.admit() }
        #expect(log.lines.contains { $0.hasPrefix("warning Dify circuit re-opened") && $0.contains("failures=4") })
        clock.advance(by: 30)
        #expect(try await breaker.admit() == .trial)
    }

    @Test func aCancelledTrialLetsTheNextCallerTry() async throws {
        let (breaker, _, _) = try await Self.opened(thenAfter: 30)
        await breaker.record(.inconclusive, permit: try await breaker.admit())
        #expect(try await breaker.admit() == .trial)
    }

    @Test func callsInFlightWhenItOpenedDoNotExtendTheCooldown() async throws {
        let clock = TestClock()
        let breaker = Self.breaker(clock: clock)
        let permits = [
            try await breaker.admit(), try await breaker.admit(), try await breaker.admit(), try await breaker.admit(),
        ]
        for permit in permits { await breaker.record(.down, permit: permit) }
        clock.advance(by: 30)
        #expect(try await breaker.admit() == .trial)
    }

    /// `stub` behind breakers of `failures` and a 30 s cool-down, on a clock that stands still.
    static func breaking(_ stub: StubDify, failures: Int) -> CircuitBreakingDifyClient {
        CircuitBreakingDifyClient(
            stub, failures: failures, cooldown: .seconds(30), now: TestClock().now,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
    }

    /// Through the decorator: which `DifyError`s mean "Dify is down".
    @Test(arguments: [
        (DifyError.unreachable("connection refused"), true),
        (DifyError.timeout, true),
        (DifyError.upstream(status: 502, code: nil, message: "non-JSON error body"), true),
        (DifyError.upstream(status: 503, code: nil, message: ""), true),
        (DifyError.upstream(status: 504, code: nil, message: ""), true),
        (DifyError.upstream(status: 500, code: "internal_server_error", message: "boom"), false),
        (DifyError.upstream(status: 400, code: "invalid_param", message: "bad"), false),
        (DifyError.upstream(status: 404, code: "not_found", message: "Conversation Not Exists."), false),
        (DifyError.upstream(status: 429, code: "too_many_requests", message: "slow down"), false),
        (DifyError.malformedResponse("not JSON"), false),
    ])
    func countsOnlyFailuresThatMeanDifyIsDown(error: DifyError, counts: Bool) async throws {
        // given
        let stub = StubDify(error: error)
        let client = Self.breaking(stub, failures: 2)
        let target = DifyTarget(baseURL: URL(string: "http://dify.test/v1")!, apiKey: "app-key")
        // when
        for _ in 0..<2 { await #expect(throws: error) { try await client.sendMessage(StubDify.request, to: target) } }
        // then
        let next = await #expect(throws: DifyError.self) { try await client.sendMessage(StubDify.request, to: target) }
        #expect(next == (counts ? .circuitOpen(failures: 2, retryAfter: 30) : error))
        #expect(stub.calls == (counts ? 2 : 3))
    }

    @Test func anOperatorsCheckGoesThroughAnOpenCircuit() async throws {
        // given
        let stub = StubDify(error: .unreachable("connection refused"))
        let client = Self.breaking(stub, failures: 1)
        let target = DifyTarget(baseURL: URL(string: "http://dify.test")!, apiKey: "app-key")
        _ = try? await client.sendMessage(StubDify.request, to: target)
        #expect(await client.isOpen(at: target))
        // when
        await #expect(throws: DifyError.unreachable("connection refused")) { try await client.checkApp(at: target) }
        // then: it reached Dify, and its failure left the breaker's count alone
        #expect(stub.calls == 2)
        await #expect(throws: DifyError.circuitOpen(failures: 1, retryAfter: 30)) {
            try await client.sendMessage(StubDify.request, to: target)
        }
    }

    @Test func eachDifyServerHasItsOwnBreaker() async throws {
        let stub = StubDify(error: .unreachable("connection refused"))
        let client = Self.breaking(stub, failures: 1)
        let down = DifyTarget(baseURL: URL(string: "http://down.test/v1")!, apiKey: "app-a")
        let sameServer = DifyTarget(baseURL: URL(string: "http://DOWN.test:80")!, apiKey: "app-b")
        let other = DifyTarget(baseURL: URL(string: "http://other.test")!, apiKey: "app-a")
        _ = try? await client.conversations(user: "u", lastID: nil, limit: 1, at: down)
        await #expect(throws: DifyError.circuitOpen(failures: 1, retryAfter: 30)) {
            try await client.sendMessage(StubDify.request, to: sameServer)
        }
        await #expect(throws: DifyError.unreachable("connection refused")) {
            try await client.sendMessage(StubDify.request, to: other)
        }
    }
}

/// A Dify that fails every call with one error and counts the calls.
final class StubDify: DifyClient, @unchecked Sendable {
    static let request = DifyChatRequest(query: "hi", user: "drillquiz_u1", conversationID: nil, inputs: [:])
    private let lock = NSLock()
    private var count = 0
    let error: DifyError

    init(error: DifyError) { self.error = error }

    var calls: Int { lock.withLock { count } }

    private func fail() throws -> Never {
        lock.withLock { count += 1 }
        throw error
    }

    func streamMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyEventStream { try fail() }
    func forward(_ request: DifyPassthroughRequest, to target: DifyTarget) async throws -> DifyPassthroughResponse {
        try fail()
    }
}
