import Foundation
import Vapor

/// `GET /admin/v1/audit`: admin changes and failed sign-ins, newest first, paged as the cache API is (an array, and
/// `X-Next-Cursor` with a `Link` header while more entries follow).
struct AdminAuditController: RouteCollection {
    let store: AdminStore
    static let maxLimit = 500

    func boot(routes: any RoutesBuilder) throws {
        routes.get("audit", use: audit)
    }

    @Sendable
    func audit(_ req: Request) async throws -> Response {
        func value(_ name: String) -> String? { req.query[String.self, at: name].flatMap { $0.isEmpty ? nil : $0 } }
        let from = try value("from_date").map { try CacheFilter.day($0, field: "from_date") }
        let to = try value("to_date").map { try CacheFilter.day($0, field: "to_date").addingTimeInterval(86_400) }
        let limit =
            try value("limit").map { raw in
                guard let limit = Int(raw), (1...Self.maxLimit).contains(limit) else {
                    throw AdminError.invalid("limit must be a whole number from 1 to \(Self.maxLimit)")
                }
                return limit
            } ?? 100
        let before = try value("cursor").map { raw in
            guard let id = UUID(uuidString: raw) else {
                throw AdminError.invalid("cursor is not one this API returned")
            }
            return id
        }
        let entries = try await store.audit(from: from, to: to, limit: limit + 1, before: before)
        let page = Array(entries.prefix(limit))
        let response = try await page.encodeResponse(for: req)
        if entries.count > limit, let last = page.last {
            response.announceNextPage(cursor: last.id.uuidString.lowercased(), of: req)
        }
        return response
    }
}
