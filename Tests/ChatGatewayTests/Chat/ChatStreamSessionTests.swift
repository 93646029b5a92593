import Testing
@testable import ChatGateway

@Suite("Stream session hand-off")
struct ChatStreamSessionTests {
    /// Events every 10 ms with a 300 ms keep-alive: the writer must never get an empty batch (a keep-alive).
    /// When each wait had a timer of its own, an earlier wait's timer, cancelled because an event came first,
    /// once woke the next wait at once: a storm of keep-alives that starved the relay.
    @Test func aCancelledKeepAliveTimerDoesNotWakeALaterWait() async throws {
        let session = ChatStreamSession(caller: CallerIdentity(systemID: "drillquiz", userID: "user-1"))
        let publisher = Task {
            for index in 0..<60 {
                try await Task.sleep(for: .milliseconds(10))
                await session.publish(.replace("text \(index)"))
            }
            await session.finish()
        }
        var batches = 0, emptyBatches = 0, events = 0
        while let batch = await session.nextBatch(keepAlive: .milliseconds(300)) {
            batches += 1
            if batch.isEmpty { emptyBatches += 1 }
            events += batch.count
        }
        try await publisher.value
        #expect(events == 60)
        #expect(emptyBatches == 0, "\(emptyBatches) keep-alives in \(batches) batches")
    }

    /// While the writer is busy with a slow client for longer than the keep-alive interval, the session's timer
    /// must not spin (its next keep-alive would always be overdue): it looks again an interval later.
    @Test func aWriterBusyWithASlowClientDoesNotSpinTheKeepAliveTimer() async throws {
        let session = ChatStreamSession(caller: CallerIdentity(systemID: "drillquiz", userID: "user-1"))
        Task { await session.publish(.replace("hello")) }
        #expect(await session.nextBatch(keepAlive: .milliseconds(5)) == [.replace("hello")])
        try await Task.sleep(for: .milliseconds(400))   // "writing" to a slow client, no wait parked
        // Once per 5 ms interval at most (80); a timer whose next keep-alive stayed overdue fired without pause.
        let checks = await session.keepAliveChecks
        #expect(checks <= 90, "the keep-alive timer fired \(checks) times in 400 ms")
        #expect(await session.nextBatch(keepAlive: .milliseconds(5)) == [])
        await session.finish()
    }

    @Test func aQuietStreamGetsKeepAlivesAtTheirPace() async throws {
        let session = ChatStreamSession(caller: CallerIdentity(systemID: "drillquiz", userID: "user-1"))
        // One event, then silence: after it, keep-alives come one per interval, not in a burst.
        Task { try await Task.sleep(for: .milliseconds(20)); await session.publish(.replace("hello")) }
        #expect(await session.nextBatch(keepAlive: .milliseconds(100)) == [.replace("hello")])
        let clock = ContinuousClock()
        let started = clock.now
        var keepAlives = 0
        while keepAlives < 3, let batch = await session.nextBatch(keepAlive: .milliseconds(100)) {
            if batch.isEmpty { keepAlives += 1 }
        }
        #expect(clock.now - started >= .milliseconds(300))
    }
}
