import Foundation

/// Token buckets, one per key (a user, an API key), held in this process's memory only.
///
/// Each bucket holds up to `limit.count` requests and regains them evenly over `limit.period`, so a
/// caller may burst up to the limit and then gets one request back every `period / count`.
/// A bucket idle for a whole period is full again, i.e. no different from no bucket at all: such
/// buckets are swept once per period, so memory holds only callers seen in the last period or two.
actor RateLimiter {
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    enum Decision: Equatable {
        case allowed
        /// Whole seconds until the next request would be allowed (at least 1).
        case limited(retryAfter: Int)
    }

    let limit: RateLimit
    private let now: @Sendable () -> Date
    private var buckets: [String: Bucket] = [:]
    private var lastSweep: Date

    init(limit: RateLimit, now: @escaping @Sendable () -> Date = Date.init) {
        self.limit = limit
        self.now = now
        self.lastSweep = now()
    }

    /// Takes one request from `key`'s bucket, or says how long until one is available.
    func acquire(_ key: String) -> Decision {
        let now = now()
        sweepIdleBuckets(at: now)
        var bucket = buckets[key] ?? Bucket(tokens: Double(limit.count), updated: now)
        let elapsed = max(0, now.timeIntervalSince(bucket.updated))
        bucket.tokens = min(Double(limit.count), bucket.tokens + elapsed * limit.refillRate)
        bucket.updated = now
        defer { buckets[key] = bucket }
        guard bucket.tokens >= 1 else {
            return .limited(retryAfter: max(1, Int(((1 - bucket.tokens) / limit.refillRate).rounded(.up))))
        }
        bucket.tokens -= 1
        return .allowed
    }

    /// Seconds until `key` may spend a request again, or nil when it may now; spends nothing.
    func wait(for key: String) -> Int? {
        guard let bucket = buckets[key] else { return nil }
        let elapsed = max(0, now().timeIntervalSince(bucket.updated))
        let tokens = min(Double(limit.count), bucket.tokens + elapsed * limit.refillRate)
        return tokens >= 1 ? nil : max(1, Int(((1 - tokens) / limit.refillRate).rounded(.up)))
    }

    /// How many callers are remembered (for tests of the memory bound).
    var bucketCount: Int { buckets.count }

    private func sweepIdleBuckets(at now: Date) {
        guard now.timeIntervalSince(lastSweep) >= limit.period else { return }
        lastSweep = now
        buckets = buckets.filter { now.timeIntervalSince($0.value.updated) < limit.period }
    }
}
