import Foundation

/// When a failed delivery is tried again: after each wait of the schedule in turn, with up to 10 % jitter so that
/// endpoints failing together do not come back together, or after the endpoint's `Retry-After` when that is longer.
/// A delivery whose last wait has passed and failed again is given up.
struct WebhookRetrySchedule: Sendable, Equatable {
    /// Seconds to wait after the 1st, 2nd, … failed attempt.
    var waits: [Double]

    /// Standard Webhooks' example: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h and 24 h (about three days).
    static let standard = WebhookRetrySchedule(
        waits: [5, 300, 1_800, 7_200, 18_000, 36_000, 50_400, 72_000, 86_400])

    init(waits: [Double]) { self.waits = waits }

    /// `5,300,1800`; an error names `variable`.
    init(parsing raw: String, variable: String) throws {
        waits = try raw.split(separator: ",").map { item in
            let text = item.trimmingCharacters(in: .whitespaces)
            guard let seconds = Double(text), seconds >= 0, seconds <= 604_800 else {
                throw SettingsError(
                    variable: variable,
                    problem: "expected seconds between attempts, comma-separated (such as 5,300,1800), got \"\(text)\"")
            }
            return seconds
        }
        guard !waits.isEmpty else {
            throw SettingsError(variable: variable, problem: "expected at least one wait, such as 5,300,1800")
        }
    }

    /// How long after failed attempt number `attempt` (from 1) to try again; nil when the schedule is over.
    func wait(afterAttempt attempt: Int, retryAfter: Double?) -> Double? {
        guard attempt >= 1, attempt <= waits.count else { return nil }
        let planned = waits[attempt - 1] * Double.random(in: 1...1.1)
        // An endpoint may ask for a longer pause, never for more than a day.
        return max(planned, min(retryAfter ?? 0, 86_400))
    }

    /// `Retry-After` as seconds: a number, or an HTTP date.
    static func retryAfter(_ header: String?, now: Date) -> Double? {
        guard let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty else { return nil }
        if let seconds = Double(header), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: header) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}
