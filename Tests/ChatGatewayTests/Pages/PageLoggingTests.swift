import Foundation
import Logging
import Testing
import Vapor

@testable import ChatGateway

/// The page's URL carries the token; no log line may.
@Suite("Chat page logging", .hangLimit)
struct PageLoggingTests {
    @Test func theTokenNeverReachesTheLog() async throws {
        try await GatewayHarness.with { gateway in
            let capture = LogCapture()
            gateway.app.logger = Logger(label: "capture") { _ in CapturingLogHandler(capture: capture) }
            let token = try await gateway.token()
            let forged = try await ChatTokenService(secret: "another-secret").issue(systemID: "drillquiz", userID: "u1")
            #expect(try await gateway.call(.GET, "/chat?token=\(token)&lang=ko").status == 200)
            #expect(try await gateway.call(.GET, "/chat-api?token=\(forged)").status == 401)
            #expect(try await gateway.call(.GET, "/v1/conversations?token=\(token)").status == 200)
            #expect(
                try await gateway.call(.GET, "/v1/conversations", headers: [("Authorization", "Bearer \(token)")])
                    .status == 200)
            let lines = capture.lines
            #expect(lines.contains { $0.contains("/chat-api") }, "the capture saw no request: \(lines)")
            for secret in [token, forged]
                + (token.split(separator: ".") + forged.split(separator: ".")).map(String.init)
            {
                #expect(!lines.contains { $0.contains(secret) })
            }
        }
    }
}

final class LogCapture: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    func append(_ line: String) { lock.withLock { stored.append(line) } }
    var lines: [String] { lock.withLock { stored } }
}

/// The production handlers' output, one captured line per log line.
struct CaptureOutput: TextOutputStream, Sendable {
    let capture: LogCapture
    func write(_ string: String) {
        let line = string.hasSuffix("\n") ? String(string.dropLast()) : string
        if !line.isEmpty { capture.append(line) }
    }
}

/// Keeps every line, at every level down to debug (more than an operator would usually log).
struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        capture.append(
            "\(event.level) \(event.message) \(all.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " "))")
    }
}
