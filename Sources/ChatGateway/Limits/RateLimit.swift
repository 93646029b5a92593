import Foundation

/// A configured rate such as `20/min`: at most `count` requests per `period`, in bursts of up to `count`.
public struct RateLimit: Sendable, Equatable {
    public let count: Int
    public let period: TimeInterval

    public init(count: Int, period: TimeInterval) {
        self.count = count
        self.period = period
    }

    /// Requests regained per second.
    var refillRate: Double { Double(count) / period }
}
