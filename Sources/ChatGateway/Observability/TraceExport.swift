import Foundation
import Logging
import OTel
import ServiceLifecycle

/// OpenTelemetry traces over OTLP/HTTP (protobuf), on only when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set. swift-otel reads the other standard variables itself:
/// `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER`(`_ARG`).
///
/// Tracing is process-wide in swift-distributed-tracing (`InstrumentationSystem`), so the entry point bootstraps
/// it once; the gateway's spans go to whatever tracer is in place, the no-op one otherwise.
enum TraceExport {
    static func isConfigured(_ environment: [String: String]) -> Bool {
        ["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"].contains {
            !(environment[$0] ?? "").trimmingCharacters(in: .whitespaces).isEmpty
        }
    }

    /// Bootstraps the tracer and returns the exporter's background work, to run until shutdown; nil when off.
    static func bootstrap(environment: [String: String]) throws -> ServiceGroup? {
        guard isConfigured(environment) else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = "chat-gateway"
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.diagnosticLogLevel = .warning
        let exporter = try OTel.bootstrap(configuration: configuration, environment: environment)
        // Run beside the server and stopped by the entry point, which flushes the spans still queued.
        return ServiceGroup(
            configuration: .init(services: [exporter], gracefulShutdownSignals: [], logger: Logger(label: "otel")))
    }
}
