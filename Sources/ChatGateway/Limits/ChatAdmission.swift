import Foundation
import NIOConcurrencyHelpers
import SQLKit
import Vapor

/// Decides whether a chat may start (`POST /v1/chat`): not while shutting down, then the per-user and per-key
/// rates and the cap on a user's concurrent streams. On PostgreSQL the rates are counted in the database, which the
/// replicas share; otherwise, and always for the stream cap, in this replica's memory (docs/operations.md, "Limits").
struct ChatAdmission: Sendable {
    let perUser: (any ChatRateLimiter)?
    let perKey: (any ChatRateLimiter)?
    let maxStreamsPerUser: Int?
    /// `DIFY_MAX_CONNECTIONS`: streams past it would wait for a connection to Dify, so they are refused instead.
    let maxStreams: Int
    let streams: StreamSlots
    /// Systems defined through the admin API may set their own per-user limits.
    let registry: GatewayRegistry?
    let shutdown: ShutdownState
    let metrics: GatewayMetrics
    /// Users whose data is being erased: their chats are refused until it ends.
    let erasures: ErasureGate?
    private let now: @Sendable () -> Date
    /// Each admin-defined system's per-user limiter, with the limit it was made from: the same rate in other words
    /// (`5/min`, `5/minute`) keeps the limiter and what it has counted.
    private let systemLimiters = NIOLockedValueBox<[String: (limit: RateLimit?, limiter: (any ChatRateLimiter)?)]>([:])
    private let makeLimiter: @Sendable (RateLimit, String) -> any ChatRateLimiter

    init(
        settings: Settings, streams: StreamSlots, registry: GatewayRegistry? = nil,
        shutdown: ShutdownState = ShutdownState(), metrics: GatewayMetrics,
        sharedBuckets: (@Sendable () -> any SQLDatabase)? = nil, erasures: ErasureGate? = nil,
        now: @escaping @Sendable () -> Date
    ) {
        self.erasures = erasures
        self.shutdown = shutdown
        self.metrics = metrics
        let makeLimiter: @Sendable (RateLimit, String) -> any ChatRateLimiter =
            if let sharedBuckets {
                { limit, scope in SharedRateLimiter(limit: limit, scope: scope, database: sharedBuckets, now: now) }
            } else {
                { limit, _ in RateLimiter(limit: limit, now: now) }
            }
        self.makeLimiter = makeLimiter
        perUser = settings.rateLimitPerUser.map { makeLimiter($0, "user") }
        perKey = settings.rateLimitPerKey.map { makeLimiter($0, "key") }
        maxStreamsPerUser = settings.maxStreamsPerUser
        maxStreams = settings.difyMaxConnections
        self.streams = streams
        self.registry = registry
        self.now = now
    }

    /// The per-user limiter for a system: its own `rate_limit_per_user` when the admin API set one, else
    /// `RATE_LIMIT_PER_USER`'s.
    private func userLimiter(for systemID: String) -> (any ChatRateLimiter)? {
        guard let limit = registry?.systemInForce(systemID)?.rateLimitPerUser else { return perUser }
        let parsed = (try? Settings.parseRateLimit(limit, variable: "rate_limit_per_user")) ?? nil
        return systemLimiters.withLockedValue { limiters in
            if let known = limiters[systemID], known.limit == parsed { return known.limiter }
            let limiter = parsed.map { makeLimiter($0, "system:\(systemID)") }
            limiters[systemID] = (parsed, limiter)
            return limiter
        }
    }

    private func streamLimit(for systemID: String) -> Int? {
        registry?.systemInForce(systemID)?.maxStreamsPerUser ?? maxStreamsPerUser
    }

    /// Spends one request of the caller's user and of the API key the caller came with or whose token it holds.
    func admit(_ caller: CallerIdentity) async throws {
        guard shutdown.phase < .refusingChats else { throw LimitError.shuttingDown }
        if erasures?.isErasing(caller) == true { throw LifecycleError.erasureInProgress }
        if let perUser = userLimiter(for: caller.systemID),
            case .limited(let seconds) = try await perUser.acquire(caller.difyUser)
        {
            metrics.rateLimited(system: caller.systemID, scope: .user)
            throw LimitError.rateLimited(scope: .user, retryAfter: seconds)
        }
        if let perKey, let keyID = caller.rateKeyID, case .limited(let seconds) = try await perKey.acquire(keyID) {
            metrics.rateLimited(system: caller.systemID, scope: .apiKey)
            throw LimitError.rateLimited(scope: .apiKey, retryAfter: seconds)
        }
    }

    /// Starts a stream in one of the user's slots and one of the process's, which are given back when the answer
    /// has been read to its end (not when the client leaves: the gateway keeps reading Dify for it) or when
    /// starting fails.
    func stream(
        for caller: CallerIdentity, start: () async throws -> RunningTurn
    ) async throws -> RunningTurn {
        let limit = streamLimit(for: caller.systemID)
        let user = caller.difyUser
        switch await streams.reserve(for: user, limit: limit, totalLimit: maxStreams) {
        case .reserved: break
        case .userFull: throw LimitError.tooManyStreams(limit: limit ?? 0)
        case .processFull:
            metrics.rateLimited(system: caller.systemID, scope: .gatewayStreams)
            throw LimitError.gatewayBusy(limit: maxStreams, variable: "DIFY_MAX_CONNECTIONS")
        }
        let turn: RunningTurn
        do {
            turn = try await start()
        } catch {
            await streams.release(for: user)
            throw error
        }
        turn.onFinish { [streams] in await streams.release(for: user) }
        return turn
    }
}
