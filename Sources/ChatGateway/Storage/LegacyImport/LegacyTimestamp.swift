import Foundation
import SQLKit

/// The seed's timestamps are naive UTC. SQLAlchemy wrote them to SQLite as text, `2025-01-02 03:04:05.123456`
/// (SQLiteNIO's own parser refuses the fraction without a zone); PostgreSQL hands them over as
/// `timestamp without time zone`, which PostgresNIO decodes as UTC.
enum LegacyTimestamp {
    /// The column's time, or nil when it is NULL or unreadable: every legacy timestamp has a fallback.
    static func decode(_ row: any SQLRow, column: String) -> Date? {
        switch Result(catching: { try row.decode(column: column, as: String?.self) }) {
        case .success(.none): return nil
        case .success(.some(let text)):
            if let date = parse(text) { return date }
        case .failure: break
        }
        // Not text: PostgreSQL's timestamp, or seconds since 1970 in SQLite.
        return (try? row.decode(column: column, as: Date?.self)) ?? nil
    }

    /// `YYYY-MM-DD[ |T]HH:MM[:SS[.fraction]]` or a bare date, as UTC unless a `Z` or `±HH:MM` follows.
    static func parse(_ text: String) -> Date? {
        var scanner = DigitScanner(Array(text.trimmingCharacters(in: .whitespaces).utf8)[...])
        guard let year = scanner.number(4), scanner.skip("-"), let month = scanner.number(2), scanner.skip("-"),
            let day = scanner.number(2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = 0
        var fraction = 0.0
        if scanner.skip(" ") || scanner.skip("T") {
            guard let hour = scanner.number(2), scanner.skip(":"), let minute = scanner.number(2), hour < 24,
                minute < 60
            else { return nil }
            seconds = hour * 3600 + minute * 60
            if scanner.skip(":") {
                guard let second = scanner.number(2), second <= 60 else { return nil }
                seconds += second
                if scanner.skip(".") { fraction = scanner.fraction() }
            }
        }
        guard let offset = scanner.zoneOffset(), scanner.isAtEnd else { return nil }
        let days = daysSince1970(year: year, month: month, day: day)
        return Date(timeIntervalSince1970: Double(days * 86_400 + seconds - offset) + fraction)
    }

    /// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`): plain arithmetic,
    /// because a legacy database can hold millions of these.
    static func daysSince1970(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

/// Reads a timestamp's parts left to right.
private struct DigitScanner {
    var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    var isAtEnd: Bool { bytes.isEmpty }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        guard bytes.first == UInt8(ascii: character) else { return false }
        bytes.removeFirst()
        return true
    }

    mutating func number(_ digits: Int) -> Int? {
        guard bytes.count >= digits, bytes.prefix(digits).allSatisfy(Self.isDigit) else { return nil }
        defer { bytes.removeFirst(digits) }
        return bytes.prefix(digits).reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// The digits after the decimal point, as a fraction of a second.
    mutating func fraction() -> Double {
        var value = 0.0
        var scale = 0.1
        while let byte = bytes.first, Self.isDigit(byte) {
            value += Double(byte - UInt8(ascii: "0")) * scale
            scale /= 10
            bytes.removeFirst()
        }
        return value
    }

    /// Seconds east of UTC: 0 for none or `Z`; nil when what follows is not a zone.
    mutating func zoneOffset() -> Int? {
        if isAtEnd || skip("Z") { return 0 }
        let sign = skip("+") ? 1 : skip("-") ? -1 : 0
        guard sign != 0, let hours = number(2) else { return nil }
        _ = skip(":")
        let minutes = number(2) ?? 0
        return sign * (hours * 3600 + minutes * 60)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
