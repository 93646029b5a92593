import Foundation
import SQLKit
import Vapor

/// The filters shared by the cache listing, the history page and the export:
/// `system_id`, `user_id`, `from_date`/`to_date` (`YYYY-MM-DD`, UTC, `to_date` inclusive) and `q`
/// (case-insensitive text in conversation names or message contents); and always the caller's key scope.
struct CacheFilter: Sendable, Equatable {
    var systemID: String?
    var userID: String?
    var from: Date?
    /// Exclusive: the day after `to_date`.
    var until: Date?
    var text: String?
    /// The systems the caller's key serves: rows of other systems are never read.
    var scope: KeyScope = .allSystems

    /// A `system_id` outside the caller's scope is 403, not an empty page: the key holder should know why.
    static func parse(_ req: Request, scope: KeyScope) throws -> CacheFilter {
        func value(_ name: String) -> String? {
            guard let raw = req.query[String.self, at: name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
                return nil
            }
            return raw
        }
        let from = try value("from_date").map { try day($0, field: "from_date") }
        let to = try value("to_date").map { try day($0, field: "to_date") }
        if let from, let to, to < from {
            throw Abort(.unprocessableEntity, reason: "to_date must not be before from_date")
        }
        let systemID = value("system_id")
        if let systemID, !scope.permits(systemID) { throw AuthError.outsideKeyScope(scope) }
        return CacheFilter(
            systemID: systemID, userID: value("user_id")?.precomposedStringWithCanonicalMapping, from: from,
            until: to.map { $0.addingTimeInterval(86_400) }, text: value("q"), scope: scope)
    }

    static func day(_ raw: String, field: String) throws -> Date {
        let parts = raw.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let dayOfMonth = Int(parts[2]),
            let date = DateComponents(calendar: .utc, timeZone: .gmt, year: year, month: month, day: dayOfMonth).date,
            Calendar.utc.component(.day, from: date) == dayOfMonth, Calendar.utc.component(.month, from: date) == month
        else { throw Abort(.unprocessableEntity, reason: "\(field) must be a date as YYYY-MM-DD") }
        return date
    }

    /// Adds this filter's conditions on `gateway_conversations` (aliased `c`) to a query.
    func apply<Builder: SQLPredicateBuilder>(to builder: Builder) -> Builder {
        var builder = builder
        if case .systems(let ids) = scope {
            builder = builder.where(SQLColumn("system_id", table: "c"), .in, SQLBind.group(ids.sorted()))
        }
        if let systemID { builder = builder.where(SQLColumn("system_id", table: "c"), .equal, SQLBind(systemID)) }
        if let userID { builder = builder.where(SQLColumn("user_id", table: "c"), .equal, SQLBind(userID)) }
        if let from { builder = builder.where(SQLColumn("created_at", table: "c"), .greaterThanOrEqual, SQLBind(from)) }
        if let until { builder = builder.where(SQLColumn("created_at", table: "c"), .lessThan, SQLBind(until)) }
        if let text {
            let pattern = "%" + Self.escapeLike(text.lowercased()) + "%"
            builder = builder.where(
                SQLQueryString(
                    """
                    (LOWER(COALESCE(c.name, '')) LIKE \(bind: pattern) ESCAPE '\\' OR EXISTS (SELECT 1 FROM \(ident: StoredMessage.schema) m \
                    WHERE m.conversation_id = c.conversation_id AND LOWER(m.content) LIKE \(bind: pattern) ESCAPE '\\'))
                    """))
        }
        return builder
    }

    static func escapeLike(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
    }
}

/// Where a page of the newest-first listing starts: after the (created_at, conversation_id) of the previous
/// page's last row. Opaque to clients (base64url).
struct CacheCursor: Sendable, Equatable {
    let createdAt: Date
    let conversationID: String

    var encoded: String {
        let micros = Int64((createdAt.timeIntervalSince1970 * 1_000_000).rounded())
        return Data("\(micros)|\(conversationID)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(
                of: "=", with: "")
    }

    init(createdAt: Date, conversationID: String) {
        self.createdAt = createdAt
        self.conversationID = conversationID
    }

    init(encoded: String) throws {
        var base64 = encoded.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
            let bar = text.firstIndex(of: "|"), let micros = Int64(text[..<bar])
        else { throw Abort(.unprocessableEntity, reason: "cursor is not one this API returned") }
        createdAt = Date(timeIntervalSince1970: TimeInterval(micros) / 1_000_000)
        conversationID = String(text[text.index(after: bar)...])
    }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        return calendar
    }()
}
