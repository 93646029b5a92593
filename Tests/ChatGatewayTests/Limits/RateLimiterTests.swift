import Foundation
import Testing

@testable import ChatGateway

@Suite("RateLimiter", .timeLimit(.minutes(3)))
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
