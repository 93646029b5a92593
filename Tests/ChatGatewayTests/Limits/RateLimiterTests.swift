import Foundation
import SQLKit
import Testing

@testable import ChatGateway

@Suite("RateLimiter", .hangLimit)
struct RateLimiterTests {
    @Test func burstsUpToTheLimitThenRecoversOverThePeriod() async {
        let clock = TestClock()
        let limiter = RateLimiter(limit: RateLimit(count: 3, period: 60), now: clock.now)
        for _ in 0..<3 { #expect(await limiter.acquire("u") == .allowed) }
        #expect(await limiter.acquire("u") == .limited(retryAfter: 20))
        clock.advance(by: 19)
        #expect(await limiter.acquire("u") == .limited(retryAfter: 1))
        clock.advance(by: 1)
        #expect(await limiter.acquire("u") == .allowed)
        #expect(await limiter.acquire("u") == .limited(retryAfter: 20))
        clock.advance(by: 60)
        for _ in 0..<3 { #expect(await limiter.acquire("u") == .allowed) }
    }

    @Test func keysHaveTheirOwnBuckets() async {
        let limiter = RateLimiter(limit: RateLimit(count: 1, period: 1), now: TestClock().now)
        #expect(await limiter.acquire("a") == .allowed)
        #expect(await limiter.acquire("a") == .limited(retryAfter: 1))
        #expect(await limiter.acquire("b") == .allowed)
    }

    @Test func idleBucketsAreForgotten() async {
        let clock = TestClock()
        let limiter = RateLimiter(limit: RateLimit(count: 5, period: 60), now: clock.now)
        for user in 0..<1000 { _ = await limiter.acquire("user\(user)") }
        #expect(await limiter.bucketCount == 1000)
        clock.advance(by: 60)
        _ = await limiter.acquire("fresh")
        #expect(await limiter.bucketCount == 1)
    }
}

/// On PostgreSQL, replicas count the rate limits together in the database.
@Suite(
    "Shared rate limits",
    .enabled(if: TestDatabase.postgresURL != nil, "needs a PostgreSQL server: set TEST_DATABASE_URL (.ci/run does)"))
struct SharedRateLimiterTests {
    @Test func twoReplicasSpendOneBucket() async throws {
        try await GatewayHarness.with { (gateway: GatewayHarness) async throws in
            let database: @Sendable () -> any SQLDatabase = { gateway.app.db as! any SQLDatabase }
            let clock = TestClock()
            let limit = RateLimit(count: 3, period: 60)
            let replicaA = SharedRateLimiter(limit: limit, scope: "user", database: database, now: clock.now)
            let replicaB = SharedRateLimiter(limit: limit, scope: "user", database: database, now: clock.now)
            #expect(try await replicaA.acquire("drillquiz_ann") == .allowed)
            #expect(try await replicaB.acquire("drillquiz_ann") == .allowed)
            #expect(try await replicaA.acquire("drillquiz_ann") == .allowed)
            #expect(try await replicaB.acquire("drillquiz_ann") == .limited(retryAfter: 20))
            #expect(try await replicaA.acquire("drillquiz_bob") == .allowed)
            clock.advance(by: 20)
            #expect(try await replicaB.acquire("drillquiz_ann") == .allowed)
            #expect(try await replicaA.acquire("drillquiz_ann") == .limited(retryAfter: 20))
        }
    }
}
