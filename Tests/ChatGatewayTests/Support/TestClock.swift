import Foundation
import NIOConcurrencyHelpers

/// A clock tests move by hand, so time-based rules are checked without sleeping.
final class TestClock: Sendable {
    private let current: NIOLockedValueBox<Date>

    init(_ start: Date = Date()) { current = NIOLockedValueBox(start) }

    var now: @Sendable () -> Date { { [current] in current.withLockedValue { $0 } } }

    func advance(by seconds: TimeInterval) { current.withLockedValue { $0 += seconds } }
}
