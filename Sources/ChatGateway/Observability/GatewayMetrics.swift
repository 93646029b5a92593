import CoreMetrics
import Foundation
import Prometheus

/// Everything the gateway counts, recorded through swift-metrics into a Prometheus registry of this app's own
/// (not the process-wide `MetricsSystem`), so each app, and each test, starts from zero.
///
/// Labels hold only bounded values: route patterns, methods, statuses, outcomes and systems the gateway is
/// configured for. Any other `system_id` a caller sends is counted as `other`.
public final class GatewayMetrics: Sendable {
    enum ChatMode: String { case blocking, stream }
    enum ChatOutcome: String { case completed, failed, stopped, refused, clientGone = "client_gone" }
    enum SyncResult: String { case success, partial, failure, skipped }

    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let isKnownSystem: @Sendable (String) -> Bool

    /// `isKnownSystem`: whether a system id is one the gateway is configured for, and so may be a label value.
    init(isKnownSystem: @escaping @Sendable (String) -> Bool) {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // The gateway's own share of a chat is milliseconds, Dify's answers take seconds.
        factory.durationHistogramBuckets["chatgw_gateway_overhead_seconds"] = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
        ]
        let answerBuckets: [Duration] = [
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5),
            .seconds(10), .seconds(20), .seconds(30), .seconds(60), .seconds(120),
        ]
        factory.durationHistogramBuckets["chatgw_dify_request_duration_seconds"] = answerBuckets
        factory.durationHistogramBuckets["chatgw_dify_time_to_first_token_seconds"] = answerBuckets
        self.factory = factory
        self.isKnownSystem = isKnownSystem
    }

    /// The label value for a system: its id when configured, else `other`.
    func system(_ systemID: String) -> String { isKnownSystem(systemID) ? systemID : "other" }

    // MARK: Recording

    func httpRequest(route: String, method: String, status: UInt, duration: Duration) {
        count("chatgw_http_requests_total", ["route": route, "method": method, "status": String(status)])
        time("chatgw_http_request_duration_seconds", ["route": route], duration)
    }

    func chat(system systemID: String, mode: ChatMode, outcome: ChatOutcome) {
        count("chatgw_chats_total", ["system": system(systemID), "mode": mode.rawValue, "outcome": outcome.rawValue])
    }

    /// `status`: Dify's HTTP status, or `timeout` / `unreachable` / `circuit_open` when no answer came.
    func difyRequest(system systemID: String, endpoint: String, status: String, duration: Duration) {
        let system = system(systemID)
        count("chatgw_dify_requests_total", ["system": system, "endpoint": endpoint, "status": status])
        time("chatgw_dify_request_duration_seconds", ["system": system, "endpoint": endpoint], duration)
    }

    func difyFirstToken(system systemID: String, after duration: Duration) {
        time("chatgw_dify_time_to_first_token_seconds", ["system": system(systemID)], duration)
    }

    func gatewayOverhead(_ duration: Duration) { time("chatgw_gateway_overhead_seconds", [:], duration) }

    func messageStored(system systemID: String, role: String, status: StoredMessage.Status) {
        count("chatgw_messages_stored_total", ["system": system(systemID), "role": role, "status": status.rawValue])
    }

    func storeFailure() { count("chatgw_store_failures_total", [:]) }

    /// One write of the store's (several may share a transaction); `operation` is one of the store's fixed names.
    func storeWrite(_ operation: String) { count("chatgw_store_writes_total", ["operation": operation]) }

    /// Dify's `usage` of one answer (`metadata.usage`): tokens, and the price in its currency.
    func usage(system systemID: String, _ usage: DifyUsage) {
        let system = system(systemID)
        count("chatgw_tokens_total", ["system": system, "kind": "prompt"], by: usage.promptTokens)
        count("chatgw_tokens_total", ["system": system, "kind": "completion"], by: usage.completionTokens)
        if let price = usage.totalPrice, let currency = usage.currency, Self.isCurrencyCode(currency) {
            FloatingPointCounter(
                label: "chatgw_cost_total", dimensions: [("system", system), ("currency", currency)], factory: factory
            ).increment(by: NSDecimalNumber(decimal: price).doubleValue)
        }
    }

    func rateLimited(system systemID: String, scope: LimitError.Scope) {
        let scope =
            switch scope {
            case .user: "user"
            case .apiKey: "api_key"
            case .gatewayStreams: "gateway_streams"
            default: "other"
            }
        count("chatgw_rate_limited_total", ["system": system(systemID), "scope": scope])
    }

    func budgetRefused(system systemID: String) {
        count("chatgw_budget_refusals_total", ["system": system(systemID)])
    }

    /// One webhook attempt: its result (`success`, `http_error`, `redirect`, `gone`, `timeout`, `unreachable`,
    /// `refused`) and how long the endpoint took.
    func webhookDelivery(result: String, duration: Duration) {
        count("chatgw_webhook_deliveries_total", ["result": result])
        time("chatgw_webhook_delivery_duration_seconds", [:], duration)
    }

    /// Deliveries waiting and events not yet fanned out, and the age of the oldest of them.
    func webhookQueue(depth: Int, oldestAge: Double) {
        Gauge(label: "chatgw_webhook_queue_depth", factory: factory).record(depth)
        Gauge(label: "chatgw_webhook_oldest_pending_age_seconds", factory: factory).record(oldestAge)
    }

    /// What one retention batch deleted.
    func retentionDeleted(conversations: Int, messages: Int) {
        count("chatgw_retention_deleted_total", ["kind": "conversations"], by: conversations)
        count("chatgw_retention_deleted_total", ["kind": "messages"], by: messages)
    }

    /// An erasure that ended: `completed` or `failed`.
    func erasureEnded(_ result: String) {
        count("chatgw_erasures_total", ["result": result])
    }

    func syncRun(_ result: SyncResult, report: SyncReport?, finishedAt: Date) {
        count("chatgw_sync_runs_total", ["result": result.rawValue])
        guard let report else { return }
        count("chatgw_sync_messages_total", ["change": "added"], by: report.messagesAdded)
        count("chatgw_sync_messages_total", ["change": "updated"], by: report.messagesUpdated)
        Gauge(label: "chatgw_sync_last_success_timestamp_seconds", factory: factory)
            .record(finishedAt.timeIntervalSince1970)
    }

    // MARK: Exposition

    /// The Prometheus text exposition, with the gauges read at scrape time set first.
    func exposition(streamsActive: Int, openCircuits: [String: Bool], process: ProcessMetrics.Reading?) -> [UInt8] {
        Gauge(label: "chatgw_streams_active", factory: factory).record(streamsActive)
        for (systemID, open) in openCircuits {
            Gauge(label: "chatgw_dify_circuit_open", dimensions: [("system", systemID)], factory: factory)
                .record(open ? 1 : 0)
        }
        if let process {
            Gauge(label: "process_resident_memory_bytes", factory: factory).record(process.residentBytes)
            Gauge(label: "process_open_fds", factory: factory).record(process.openFileDescriptors)
            Gauge(label: "process_max_fds", factory: factory).record(process.maxFileDescriptors)
            Gauge(label: "process_start_time_seconds", factory: factory).record(process.startTimeSeconds)
            // A gauge under a counter's name: Prometheus only reads the number, and this one only grows.
            Gauge(label: "process_cpu_seconds_total", factory: factory).record(process.cpuSeconds)
        }
        var bytes: [UInt8] = []
        registry.emit(into: &bytes)
        return bytes
    }

    // MARK: Helpers

    private func count(_ name: String, _ labels: KeyValuePairs<String, String>, by amount: Int = 1) {
        guard amount > 0 else { return }
        Counter(label: name, dimensions: labels.map { ($0.key, $0.value) }, factory: factory).increment(by: amount)
    }

    private func time(_ name: String, _ labels: KeyValuePairs<String, String>, _ duration: Duration) {
        Timer(label: name, dimensions: labels.map { ($0.key, $0.value) }, factory: factory)
            .recordNanoseconds(duration.nanoseconds)
    }

    /// ISO 4217 codes only: a currency is free text from Dify, and a label must stay bounded.
    static func isCurrencyCode(_ text: String) -> Bool {
        text.utf8.count == 3 && text.utf8.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }
}
