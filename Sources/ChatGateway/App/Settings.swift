import Foundation

/// Every knob of the gateway, parsed once at start-up from the environment (and `.env`).
/// Tests build theirs with the same `Settings.parse(environment:isProduction:)`, from an environment of their own.
public struct Settings: Sendable {
    /// Where the gateway's own tables live.
    public enum Database: Sendable, Equatable {
        case sqlite(path: String)
        case postgres(url: String)
    }

    /// The shared Dify app (`DIFY_BASE_URL` / `DIFY_API_KEY`); nil base URL means the demo upstream.
    public var difyBaseURL: URL?
    public var difyAPIKey: String?
    /// Per-system overrides keyed by the env segment (`DIFY_<SEGMENT>_BASE_URL`), e.g. `DRILLQUIZ`, `COIN_TUTOR`.
    public var difySystemOverrides: [String: DifyOverride]
    public var difyTimeout: Duration
    /// Connections kept open to each Dify host (`DIFY_MAX_CONNECTIONS`); requests beyond it wait in the pool.
    public var difyMaxConnections: Int
    /// Longest silence tolerated inside a Dify stream (`DIFY_STREAM_IDLE_TIMEOUT`); Dify pings every ~10 s.
    public var difyStreamIdleTimeout: Duration
    /// How often a quiet chat stream gets a keep-alive comment (`STREAM_KEEPALIVE_SECONDS`).
    public var streamKeepAlive: Duration

    public var jwtSecret: String
    /// True when no `CHAT_GATEWAY_JWT_SECRET` was given and one was generated for this process only.
    public var jwtSecretIsEphemeral: Bool
    /// The secret being rotated out (`CHAT_GATEWAY_JWT_PREVIOUS_SECRET`): verifies old tokens, never signs.
    public var jwtPreviousSecret: String?
    /// Optional `aud`/`iss`, maximum lifetime and clock-skew leeway of chat tokens (`CHAT_GATEWAY_JWT_*`).
    public var jwtPolicy: ChatTokenPolicy
    /// `CHAT_GATEWAY_API_KEY`: each key with the systems it serves (`drillquiz:KEY`; a plain `KEY` serves all).
    public var apiKeys: [APIKeyEntry]
    public var database: Database
    public var allowedSystemIDs: Set<String>
    public var allowedChatTokenOrigins: [String]
    public var host: String
    public var port: Int
    public var maxMessageCharacters: Int
    public var maxRequestBytes: Int
    /// The largest upload `/dify/v1` passes on to Dify (`MAX_UPLOAD_BYTES`; Dify's own largest default, video's).
    public var maxUploadBytes: Int = 104_857_600
    /// The public URL printed in dev links (`PUBLIC_BASE_URL`), defaults to http://localhost:PORT.
    public var publicBaseURL: String
    /// How often the history sync runs by itself (`SYNC_INTERVAL`, e.g. `5m`); nil: only on request.
    public var syncInterval: Duration?
    /// Replicas share one PostgreSQL database; SQLite serves one process.
    var isPostgres: Bool { if case .postgres = database { true } else { false } }
    /// Write transactions the store runs at once: one on SQLite (it has one writer), half the pool on PostgreSQL,
    /// so reads keep the other half.
    var concurrentWriteTransactions: Int {
        isPostgres ? max(1, databasePoolSize / 2) : 1
    }
    /// Users synced at the same time (`SYNC_CONCURRENCY`), i.e. the most Dify calls a sync has in flight.
    public var syncConcurrency: Int
    /// PostgreSQL connections per event loop (`DATABASE_POOL_SIZE`); SQLite always uses one per event loop.
    public var databasePoolSize: Int
    /// Chats per (system, user) (`RATE_LIMIT_PER_USER`) and per API key (`RATE_LIMIT_PER_KEY`); nil: unlimited.
    public var rateLimitPerUser: RateLimit?
    public var rateLimitPerKey: RateLimit?
    /// Streaming answers one user may have running at once (`MAX_STREAMS_PER_USER`); nil: unlimited.
    public var maxStreamsPerUser: Int?
    /// `CHAT_GATEWAY_BROWSER_KEY`: keys that may only request chat tokens for anonymous visitors.
    public var browserKeys: [APIKeyEntry]
    /// Consecutive "Dify is down" failures that open a Dify server's circuit breaker (`DIFY_CIRCUIT_FAILURES`);
    /// 0: no breaker.
    public var difyCircuitFailures: Int
    /// How long an open breaker refuses calls before one trial goes through (`DIFY_CIRCUIT_COOLDOWN`).
    public var difyCircuitCooldown: Duration
    /// Largest request header block, names and values as sent (`MAX_HEADER_BYTES`); more is 431.
    public var maxHeaderBytes: Int
    /// How long a connection may take to send a whole request head (`REQUEST_HEAD_TIMEOUT`, 30 s); a silent or
    /// half-sent one is closed after it. Streaming answers are never closed for being quiet.
    public var requestHeadTimeout: Duration
    /// `LOG_SQL=true`: every SQL statement and its bound values (message texts, visitor ids) is logged at debug.
    public var logSQL: Bool
    /// `CHAT_GATEWAY_ENCRYPTION_KEY`: a secret only the gateway holds; operator sessions are signed with a key
    /// derived from it. Unset: a random key kept in the database.
    public var encryptionKey: String?
    /// Chat tokens minted per key and per client address (`RATE_LIMIT_TOKEN_ISSUANCE`, 60/min); nil: unlimited.
    public var rateLimitTokenIssuance: RateLimit?
    /// `TRUSTED_PROXIES`: the peers whose `X-Forwarded-For` names the client; empty: the socket's peer is the client.
    public var trustedProxies: [IPAddressRange]
    /// `DIFY_ALLOWED_NETWORKS`: private, loopback, CGNAT or unspecified ranges an admin-set `dify_base_url` may
    /// reach (never link-local); empty: none. The environment's own Dify URLs need no entry.
    public var difyAllowedNetworks: [IPAddressRange]
    /// `CHAT_GATEWAY_ADMIN_KEY`: the keys of the admin API and console (`X-Admin-Key`); empty: the admin API is off.
    public var adminKeys: [String]
    /// `BUDGET_PER_USER`: what each user of every system may use per UTC day or month (`50000 tokens/day`,
    /// `2.00 USD/month`, comma-separated); a system's own `budget` (admin API) replaces it for that system.
    var budgetPerUser: [BudgetLimit]
    /// `METRICS_KEY`: when set, `GET /metrics` needs `Authorization: Bearer <METRICS_KEY>`; unset, it is open.
    public var metricsKey: String?
    /// After SIGTERM, how long `/readyz` says 503 while chats still start (`SHUTDOWN_GRACE_READY`, 5 s), so the
    /// load balancer notices before chats are refused.
    public var shutdownGraceReady: Duration
    /// After SIGTERM, how long running streams get to finish and be stored (`SHUTDOWN_GRACE`, 30 s, counted
    /// from the signal); one still running then is stored as far as it got, marked interrupted.
    public var shutdownGrace: Duration
    /// How long an `Idempotency-Key` is remembered (`IDEMPOTENCY_TTL`, 24 h).
    public var idempotencyTTL: Duration = .seconds(86_400)
    /// How long a repeated blocking request waits for its turn's answer before a 409 (`IDEMPOTENCY_WAIT`, 30 s).
    public var idempotencyWait: Duration = .seconds(30)
    /// How long a process's claim on its running turns lasts unless renewed (`TURN_LEASE`, 30 s): another
    /// replica, or the process started after a crash, recovers a turn whose claim ran out.
    public var turnLease: Duration = .seconds(30)
    /// `/openai/v1`'s model names, by the `<SYSTEM>` segment of `DIFY_<SYSTEM>_OPENAI_MODEL`.
    public var openAIModelNames: [String: String] = [:]
    /// The secret Open WebUI signs `X-OpenWebUI-User-Jwt` with (`OPENWEBUI_USER_JWT_SECRET`): set, only a signed
    /// user is believed; unset, `X-OpenWebUI-User-Id` is.
    public var openWebUIUserJWTSecret: String?
    /// The chat page's uploads, transcriptions and read-alouds per (system, user) (`RATE_LIMIT_MEDIA`, 30/min);
    /// nil: unlimited.
    public var rateLimitMedia: RateLimit? = nil
    /// The largest recording `/v1/audio-to-text` takes (`MAX_VOICE_BYTES`, 10 MB).
    public var maxVoiceBytes: Int = 10_485_760
    /// `DIFY_<SYSTEM>_SOURCE_LINKS`, `DIFY_<SYSTEM>_INLINE_MATH` and `DIFY_<SYSTEM>_SELF_EXPORT`, by the variables' `<SYSTEM>` segment.
    var pageSettings = PageSettings.Environment()
    /// The waits between a webhook's attempts (`WEBHOOK_RETRY_SCHEDULE`, seconds, comma-separated).
    var webhookRetrySchedule = WebhookRetrySchedule.standard
    /// `WEBHOOK_ALLOWED_NETWORKS`: loopback, private, link-local or CGNAT ranges webhook endpoints may be at, over
    /// `http` too; empty: none.
    public var webhookAllowedNetworks: [IPAddressRange] = []
    /// `RETENTION_DAYS`: how long message content is kept, for systems without their own `retention_days`; nil:
    /// until deleted.
    public var retentionDays: Int? = nil
    /// `RETENTION_INTERVAL`: how often the retention job runs (1 h); nil (`off`): only `chat-gateway purge` runs it.
    public var retentionInterval: Duration? = .seconds(3600)

    public struct DifyOverride: Sendable, Equatable {
        public var baseURL: URL?
        public var apiKey: String?
    }

    /// True when no real Dify is configured and the in-process fake answers instead.
    public var usesDemoUpstream: Bool {
        difyBaseURL == nil && difySystemOverrides.values.allSatisfy { $0.baseURL == nil }
    }

    public static let defaultDatabaseURL = "sqlite:///./chat_gateway.db"
    // Limits are off unless configured: client systems such as DrillQuiz send every logged-out visitor as the one
    // user `anonymous`, so a per-user default would throttle all of them together. README (Limits) suggests values.
}

/// A configuration value that stops start-up; the message names the variable.
public struct SettingsError: Error, CustomStringConvertible, Equatable {
    public let variable: String
    public let problem: String
    public var description: String { "\(variable): \(problem)" }
}
