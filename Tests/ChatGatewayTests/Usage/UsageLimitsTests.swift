import Foundation
import SQLKit
import Testing

@testable import ChatGateway

/// `GET /v1/usage` and `/v1/cache/export` within bounds: the probe's parallel year-long reports by user and day
/// stalled another tenant's chats and held 1.5 GiB. A report has at most `maxGroups` groups, and reports and
/// exports run a few at a time.
@Suite("Usage: limits", .hangLimit)
struct UsageLimitsTests {
    /// `count` users with one chat each today, written straight into the daily sums.
    static func seed(_ gateway: GatewayHarness, users count: Int) async throws {
        let day = UsageRollup.day(of: Date())
        for start in stride(from: 0, to: count, by: 500) {
            let values = (start..<min(start + 500, count)).map { index in
                SQLQueryString("(\(bind: day), 'drillquiz', \(bind: "user\(index)"), '', 1)")
            }
            try await gateway.sql.raw(
                "INSERT INTO \(ident: UsageRollup.usersTable) (day, system_id, user_id, currency, chats) VALUES \(values.joined(separator: ", "))"
            ).run()
        }
    }

    @Test func aReportWithTooManyGroupsIsRefusedSayingHowToNarrowIt() async throws {
        try await GatewayHarness.with { gateway in
            try await Self.seed(gateway, users: UsageController.maxGroups + 1)
            let refused = try await gateway.call(
                .GET, "/v1/usage?group_by=user,day&from_date=2026-01-01&to_date=2026-12-31",
                headers: GatewayHarness.keyHeader)
            #expect(refused.status == 422)
            #expect(refused.detail?.contains("more than \(UsageController.maxGroups) groups") == true)
            #expect(refused.detail?.contains("narrow") == true)
            let bySystem = try await gateway.call(.GET, "/v1/usage?group_by=system", headers: GatewayHarness.keyHeader)
            #expect(bySystem.status == 200)
            let csv = try await gateway.call(
                .GET, "/v1/usage?group_by=user&format=csv&user_id=user7", headers: GatewayHarness.keyHeader)
            #expect(csv.status == 200 && csv.text.hasPrefix("user_id,"))
        }
    }

    @Test func reportsRunTwoAtATimePerKeyAndAFewInAll() {
        let gate = ConcurrencyGate.reports()
        for _ in 0..<2 { #expect(throws: Never.self) { try gate.enter(key: "a") } }
        #expect(throws: LimitError.tooManyAtOnce(what: "reports and exports", limit: 2)) { try gate.enter(key: "a") }
        for key in ["b", "c"] { #expect(throws: Never.self) { try gate.enter(key: key) } }
        #expect(throws: LimitError.gatewayBusy(limit: 4, variable: "reports and exports")) { try gate.enter(key: "e") }
        gate.release(key: "a")
        #expect(throws: Never.self) { try gate.enter(key: "e") }
        #expect(LimitError.gatewayBusy(limit: 4, variable: "x").retryAfter == 1)
    }
}
