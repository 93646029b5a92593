import Fluent
import Foundation
import Logging
import NIOConcurrencyHelpers
import Vapor

/// Delivers the outbox: every round it fans new events out to the endpoints that want them, claims due deliveries
/// and sends them, at most `concurrency` at once and `perEndpoint` to one endpoint (a slow one cannot hold up the
/// others). Every replica runs one. A claim's lease outlives any attempt (the sender's 15 s, its whole attempt
/// included), so one delivery is never in flight from two processes; one that dies leaves its claims to the others
/// once their lease has run out.
final class WebhookDispatcher: LifecycleHandler, Sendable {
    struct Configuration: Sendable {
        var schedule: WebhookRetrySchedule
        /// This process, as the holder of its claims.
        var holder: String
        var lease: TimeInterval = 30
        var concurrency = 16
        var perEndpoint = 8
        /// How often to look for work when there was none.
        var idleInterval: Duration = .milliseconds(250)
        /// An endpoint failing for this long is disabled.
        var disableAfter: TimeInterval = 5 * 86_400
        /// Events and attempts older than this, done with, are removed.
        var keep: TimeInterval = 30 * 86_400
        /// An event sent once per budget and period stays until its period (a month at most) is over.
        var keepOnce: TimeInterval = 62 * 86_400
    }

    let queue: WebhookQueue
    let sender: WebhookSender
    let sealer: SecretSealer?
    let configuration: Configuration
    let metrics: GatewayMetrics
    let logger: Logger
    private let loop = BackgroundLoop()
    /// The deliveries being sent, by claim, with their endpoint.
    private let running = NIOLockedValueBox<[String: (endpointID: String, task: Task<Void, Never>)]>([:])
    /// Whether any endpoint exists, and when that was read: a gateway without webhooks reads it now and then only.
    private let endpointsSeen = NIOLockedValueBox<(exist: Bool, at: ContinuousClock.Instant)?>(nil)
    /// A delivery that ends frees a slot: the loop looks for work at once rather than after its idle wait.
    private let slotFreed = WakeSignal()

    init(
        queue: WebhookQueue, sender: WebhookSender, sealer: SecretSealer?, configuration: Configuration,
        metrics: GatewayMetrics, logger: Logger
    ) {
        self.queue = queue
        self.sender = sender
        self.sealer = sealer
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    func didBootAsync(_ application: Application) async throws {
        guard ChatGatewayEntrypoint.isServing(application.environment) else { return }
        loop.start { await self.run() }
    }

    func shutdownAsync(_ application: Application) async {
        guard await loop.stop() else { return }
        for delivery in running.withLockedValue({ Array($0.values) }) {
            delivery.task.cancel()
            await delivery.task.value
        }
    }

    /// An endpoint was made or changed here: look again at once.
    func endpointsChanged() {
        endpointsSeen.withLockedValue { $0 = nil }
    }

    private func run() async {
        var pruned = ContinuousClock.now - .seconds(3_600)
        var measured: ContinuousClock.Instant?
        while !Task.isCancelled {
            let worked = await step()
            if measured.map({ ContinuousClock.now - $0 >= .seconds(5) }) ?? true {
                await measureQueue()
                measured = .now
            }
            if ContinuousClock.now - pruned >= .seconds(600) {
                await prune()
                pruned = .now
            }
            if !worked { await slotFreed.wait(upTo: configuration.idleInterval) }
        }
    }

    private func endpointsExist() async throws -> Bool {
        if let seen = endpointsSeen.withLockedValue({ $0 }),
            ContinuousClock.now - seen.at < (seen.exist ? .seconds(30) : .seconds(2))
        {
            return seen.exist
        }
        let exist = try await queue.endpointsExist()
        endpointsSeen.withLockedValue { $0 = (exist, .now) }
        return exist
    }

    /// One round: fan out, claim and start. Whether there was anything to do.
    private func step() async -> Bool {
        do {
            guard try await endpointsExist() else { return false }
            let fanned = try await queue.fanOut()
            var free = configuration.concurrency - running.withLockedValue { $0.count }
            var claimed = 0
            if free > 0 {
                for endpointID in try await queue.endpointsWithDueDeliveries(limit: configuration.concurrency)
                    .shuffled()
                {
                    let busy = running.withLockedValue { $0.values.filter { $0.endpointID == endpointID }.count }
                    let room = min(free, configuration.perEndpoint - busy)
                    guard room > 0 else { continue }
                    let claims = try await queue.claim(
                        room, of: endpointID, holder: configuration.holder, lease: configuration.lease)
                    for claim in claims { start(claim) }
                    free -= claims.count
                    claimed += claims.count
                    if free == 0 { break }
                }
            }
            return fanned > 0 || claimed > 0
        } catch {
            logger.warning("webhook dispatch failed a round", metadata: ["error": .string("\(type(of: error))")])
            return false
        }
    }

    private func start(_ claim: WebhookQueue.Claim) {
        let key = claim.id + " " + claim.token
        running.withLockedValue { running in
            running[key] = (
                claim.endpointID,
                Task {
                    await self.deliver(claim)
                    _ = self.running.withLockedValue { $0.removeValue(forKey: key) }
                    self.slotFreed.signal()
                }
            )
        }
    }

    private func deliver(_ claim: WebhookQueue.Claim) async {
        do {
            guard let (event, endpoint) = try await queue.contents(of: claim) else {
                try await queue.giveUp(claim)
                return
            }
            let outcome = await attempt(event, to: endpoint)
            if Task.isCancelled, outcome.result != .success {
                // Shutting down: another process (or this one, restarted) sends it again.
                try await queue.release(claim)
                return
            }
            metrics.webhookDelivery(result: outcome.result.rawValue, duration: outcome.latency)
            let retryIn =
                outcome.result == .success || outcome.result == .gone
                ? nil : configuration.schedule.wait(afterAttempt: claim.attempts + 1, retryAfter: outcome.retryAfter)
            try await queue.record(
                outcome, retryIn: retryIn, of: claim, to: endpoint, disableAfter: configuration.disableAfter)
        } catch {
            logger.warning(
                "could not record a webhook delivery",
                metadata: ["event_id": .string(claim.eventID), "error": .string("\(type(of: error))")])
        }
    }

    /// Signs the event's body for the endpoint (with both secrets while a rotated one is valid) and sends it.
    private func attempt(
        _ event: WebhookOutbox.EventRow, to endpoint: WebhookEndpointRow
    ) async -> WebhookSender.Outcome {
        guard let sealer, let secret = sealer.open(endpoint.secretSealed) else {
            return WebhookSender.Outcome(
                result: .refused, latency: .zero,
                error:
                    "the endpoint's secret cannot be opened with CHAT_GATEWAY_ENCRYPTION_KEY: it was sealed under another key"
            )
        }
        let stamp = queue.now()
        var secrets = [secret]
        if let until = endpoint.previousSecretUntil, until > stamp.timeIntervalSince1970,
            let sealed = endpoint.previousSecretSealed, let previous = sealer.open(sealed)
        {
            secrets.append(previous)
        }
        let body = event.body(includeContent: endpoint.includeContent)
        let timestamp = Int(stamp.timeIntervalSince1970)
        return await sender.send(
            .init(
                url: endpoint.url, eventID: event.id, timestamp: timestamp, body: body,
                signature: WebhookSignature.header(id: event.id, timestamp: timestamp, body: body, secrets: secrets)),
            now: stamp)
    }

    private func measureQueue() async {
        do {
            let (count, oldestAge) =
                endpointsSeen.withLockedValue({ $0?.exist == true }) ? try await queue.depth() : (0, 0)
            metrics.webhookQueue(depth: count, oldestAge: oldestAge)
        } catch {
            logger.debug("could not measure the webhook queue", metadata: ["error": .string("\(type(of: error))")])
        }
    }

    private func prune() async {
        do {
            try await queue.prune(keep: configuration.keep, keepOnce: configuration.keepOnce)
        } catch {
            logger.warning("could not remove old webhook events", metadata: ["error": .string("\(type(of: error))")])
        }
    }
}

/// Wakes one waiter early; a signal with no one waiting wakes the next wait at once.
final class WakeSignal: Sendable {
    private let state = NIOLockedValueBox<(waiter: CheckedContinuation<Void, Never>?, pending: Bool)>((nil, false))

    func signal() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Returns at the next signal, or after `duration`.
    func wait(upTo duration: Duration) async {
        let timer = Task {
            guard (try? await Task.sleep(for: duration)) != nil else { return }
            self.signal()
        }
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { state -> Bool in
                if state.pending {
                    state.pending = false
                    return true
                }
                state.waiter = waiter
                return false
            }
            if now { waiter.resume() }
        }
        timer.cancel()
    }
}
