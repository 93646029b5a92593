import Foundation
import Logging
import Testing

@testable import ChatGateway

@Suite("Log formats")
struct LogFormatTests {
    @Test func jsonLinesCarryTheFieldsOperatorsQuery() throws {
        let capture = LogCapture()
        var logger = Logger(label: "codes.vapor.application") { label in
            LogFormat.json.handler(
                label: label, level: .info,
                metadataProvider: .init {
                    ["trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"]
                },
                output: CaptureOutput(capture: capture))
        }
        logger[metadataKey: "request-id"] = "req-1"
        logger.debug("not at info")
        logger.info("chat answered", metadata: ["system_id": "drillquiz", "duration_ms": .stringConvertible(12)])
        #expect(capture.lines.count == 1)
        let line = try #require(capture.lines.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["message"] as? String == "chat answered")
        #expect(object["request_id"] as? String == "req-1")
        #expect(object["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(object["span_id"] as? String == "00f067aa0ba902b7")
        #expect(object["metadata"] as? [String: String] == ["system_id": "drillquiz", "duration_ms": "12"])
        let timestamp = try #require(object["timestamp"] as? String)
        #expect(try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(timestamp) <= Date())
    }

    @Test func theFormatIsReadFromLogFormat() throws {
        #expect(try LogFormat.parse([:]) == .text)
        #expect(try LogFormat.parse(["LOG_FORMAT": "JSON"]) == .json)
        #expect(throws: SettingsError(variable: "LOG_FORMAT", problem: #"expected text or json, got "xml""#)) {
            try LogFormat.parse(["LOG_FORMAT": "xml"])
        }
    }
}
