import Foundation
import Testing
import Vapor

@testable import ChatGateway

/// `GET /cache/usage`: the history page's session opens it; without one, the sign-in form. Its script reads
/// `/v1/usage` with the same session.
@Suite("Usage view", .hangLimit)
struct UsagePageEndpointTests {
    @Test func theSessionOpensTheViewInItsLanguage() async throws {
        try await GatewayHarness.with { gateway in
            let signedOut = try await HistoryPageEndpointTests.call(gateway, .GET, "/cache/usage")
            #expect(signedOut.status == 200)
            #expect(signedOut.text.contains(#"action="/cache/login"#))
            #expect(!signedOut.text.contains("usage.js"))

            let cookie = try await HistoryPageEndpointTests.signedInCookie(gateway)
            for (language, strings) in [("en", UsagePageStrings.english), ("ko", UsagePageStrings.korean)] {
                let page = try await HistoryPageEndpointTests.call(
                    gateway, .GET, "/cache/usage?lang=\(language)&days=7&system_id=drillquiz", headers: [cookie])
                #expect(page.status == 200)
                #expect(page.text.contains(#"<html lang="\#(language)""#))
                #expect(page.text.contains(#"<script src="/chat-assets/usage.js"></script>"#))
                #expect(page.text.contains(HTMLText.escape(strings.topUsers)))
                #expect(page.text.contains(#"<option value="7" selected>"#))
                #expect(page.text.contains(#"id="usage-system" name="system_id" type="text""#))
                #expect(page.text.contains(#"value="drillquiz""#))
                #expect(page.headers.first(name: "Content-Security-Policy")?.contains("script-src 'self'") == true)
            }
            let report = try await HistoryPageEndpointTests.call(gateway, .GET, "/v1/usage", headers: [cookie])
            #expect(report.status == 200)
            for asset in ["usage.js", "usage.css"] {
                #expect(try await HistoryPageEndpointTests.call(gateway, .GET, "/chat-assets/\(asset)").status == 200)
            }
        }
    }
}
