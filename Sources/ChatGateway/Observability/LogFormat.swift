import Foundation
import Logging
import NIOCore

/// `LOG_FORMAT`: `text` (swift-log's line format, the default) or `json` (one object per line).
public enum LogFormat: String, Sendable, CaseIterable {
    case text, json

    static func parse(_ environment: [String: String]) throws -> LogFormat {
        guard let raw = environment["LOG_FORMAT"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
            return .text
        }
        guard let format = LogFormat(rawValue: raw.lowercased()) else {
            throw SettingsError(variable: "LOG_FORMAT", problem: "expected text or json, got \"\(raw)\"")
        }
        return format
    }

    /// A handler writing lines of this format to `output` (standard error in production).
    func handler(
        label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider?,
        output: some TextOutputStream & Sendable
    ) -> any LogHandler {
        switch self {
        case .text:
            var handler = StreamLogHandler(label: label, stream: output, metadataProvider: metadataProvider)
            handler.logLevel = level
            return handler
        case .json:
            return JSONLogHandler(label: label, logLevel: level, metadataProvider: metadataProvider, output: output)
        }
    }
}

/// One JSON object per line: `timestamp`, `level`, `message`, `request_id`, `trace_id` and `span_id` (when a
/// span is active), `label`, `source`, and the other metadata under `metadata`.
struct JSONLogHandler<Output: TextOutputStream & Sendable>: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadataProvider: Logger.MetadataProvider?
    var metadata: Logger.Metadata = [:]
    let output: Output

    init(label: String, logLevel: Logger.Level, metadataProvider: Logger.MetadataProvider?, output: Output) {
        self.label = label
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        all.merge(metadataProvider?.get() ?? [:]) { $1 }
        all.merge(event.metadata ?? [:]) { $1 }
        if let error = event.error {
            all["error.message"] = "\(error)"
            all["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        // Vapor names it `request-id`, swift-otel `trace_id` / `span_id`: lifted to the top level.
        let requestID = all.removeValue(forKey: "request-id")
        let traceID = all.removeValue(forKey: "trace_id")
        let spanID = all.removeValue(forKey: "span_id")
        all["trace_flags"] = nil
        var fields: [(String, JSONValue)] = [
            ("timestamp", .string(ISO8601.string(Date()))),
            ("level", .string(event.level.rawValue)),
            ("message", .string(event.message.description)),
        ]
        if let requestID { fields.append(("request_id", Self.json(requestID))) }
        if let traceID { fields.append(("trace_id", Self.json(traceID))) }
        if let spanID { fields.append(("span_id", Self.json(spanID))) }
        fields.append(("label", .string(label)))
        fields.append(("source", .string(event.source)))
        if !all.isEmpty { fields.append(("metadata", Self.json(.dictionary(all)))) }

        var buffer = ByteBuffer()
        buffer.writeStaticString("{")
        for (index, (key, value)) in fields.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            JSONValue.string(key).write(into: &buffer)
            buffer.writeStaticString(":")
            value.write(into: &buffer, sortedKeys: true)
        }
        buffer.writeStaticString("}\n")
        var output = output
        output.write(String(buffer: buffer))
    }

    static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let items): .array(items.map(json))
        case .dictionary(let members): .object(members.mapValues(json))
        }
    }
}

/// Standard error, unbuffered, one write per line.
struct StandardErrorOutput: TextOutputStream, Sendable {
    mutating func write(_ string: String) {
        FileHandle.standardError.write(Data(string.utf8))
    }
}
