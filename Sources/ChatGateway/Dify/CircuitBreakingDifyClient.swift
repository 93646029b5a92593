import Foundation
import Logging
import NIOConcurrencyHelpers

/// A `DifyClient` that sends every call through the circuit breaker of the call's Dify server, so a dead
/// Dify answers `.circuitOpen` (503) at once instead of holding each request for the connect timeout.
/// Systems with their own `DIFY_<SYSTEM>_BASE_URL` get their own breaker: one Dify down leaves the others alone.
struct CircuitBreakingDifyClient: DifyClient {
    let upstream: any DifyClient
    private let breakers: Breakers

    init(
        _ upstream: any DifyClient, failures: Int, cooldown: Duration, now: @escaping @Sendable () -> Date = Date.init,
        logger: Logger
    ) {
        self.upstream = upstream
        breakers = Breakers { server in
            var logger = logger
            logger[metadataKey: "upstream"] = .string(server)
            return UpstreamCircuitBreaker(
                threshold: failures, cooldown: TimeInterval(cooldown.components.seconds), now: now, logger: logger)
        }
    }

    /// Whether calls to this target's Dify server are being refused (open, or waiting for its trial call).
    func isOpen(at target: DifyTarget) async -> Bool {
        switch await breakers.breaker(for: target.baseURL).state {
        case .closed: false
        case .open, .halfOpen: true
        }
    }

    private func guarded<T: Sendable>(_ target: DifyTarget, _ call: () async throws -> T) async throws -> T {
        let breaker = breakers.breaker(for: target.baseURL)
        let permit = try await breaker.admit()
        do {
            let value = try await call()
            await breaker.record(.answered, permit: permit)
            return value
        } catch let error as DifyError where !Task.isCancelled {
            await breaker.record(error.meansUpstreamDown ? .down : .answered, permit: permit)
            throw error
        } catch {
            await breaker.record(.inconclusive, permit: permit)
            throw error
        }
    }

    func forward(
        _ request: DifyPassthroughRequest, to target: DifyTarget
    ) async throws -> DifyPassthroughResponse {
        guard !request.bypassesBreaker else { return try await upstream.forward(request, to: target) }
        return try await guarded(target) { try await upstream.forward(request, to: target) }
    }

    /// A stream counts once its head has arrived; a break later on is the stream's own failure.
    func streamMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyEventStream {
        try await guarded(target) { try await upstream.streamMessage(request, to: target) }
    }
}

extension CircuitBreakingDifyClient {
    /// One breaker per Dify server, made on first use. Keyed by scheme, host and port: base URLs that differ only
    /// in the path (`…/v1`) or in the app key are the same server, which is up or down for all of them.
    final class Breakers: Sendable {
        private let make: @Sendable (String) -> UpstreamCircuitBreaker
        private let byServer = NIOLockedValueBox<[String: UpstreamCircuitBreaker]>([:])

        init(make: @escaping @Sendable (String) -> UpstreamCircuitBreaker) { self.make = make }

        func breaker(for baseURL: URL) -> UpstreamCircuitBreaker {
            let server = Self.serverName(baseURL)
            return byServer.withLockedValue { breakers in
                if let existing = breakers[server] { return existing }
                let made = make(server)
                breakers[server] = made
                return made
            }
        }

        /// `https://dify.example.com:443`: never the user-info part of a URL, which may hold a password.
        static func serverName(_ url: URL) -> String {
            let scheme = url.scheme?.lowercased() ?? "http"
            let port = url.port ?? (scheme == "https" ? 443 : 80)
            return "\(scheme)://\(url.host?.lowercased() ?? ""):\(port)"
        }
    }
}
