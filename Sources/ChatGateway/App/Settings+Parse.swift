import Foundation

extension Settings {
    /// Parses the process environment. In production a missing JWT secret or Dify URL is an error;
    /// elsewhere the gateway starts with an ephemeral secret and the demo upstream.
    public static func parse(environment env: [String: String], isProduction: Bool) throws -> Settings {
        func value(_ name: String) -> String? {
            guard let raw = env[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
            return raw
        }
        func list(_ name: String) -> [String] {
            (value(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                !$0.isEmpty
            }
        }
        func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws -> Int {
            guard let raw = value(name) else { return fallback }
            guard let number = Int(raw), range.contains(number) else {
                throw SettingsError(
                    variable: name,
                    problem: "expected a whole number in \(range.lowerBound)...\(range.upperBound), got \"\(raw)\"")
            }
            return number
        }
        func ranges(_ name: String) throws -> [IPAddressRange] {
            try list(name).map { raw in
                guard let range = IPAddressRange(raw) else {
                    throw SettingsError(
                        variable: name,
                        problem: "expected addresses or CIDR ranges such as 10.0.0.0/8, 127.0.0.1, ::1, got \"\(raw)\"")
                }
                return range
            }
        }

        /// An interval that cannot be switched off: `off` or `0` is an error naming the variable.
        func requiredInterval(
            _ name: String, default fallback: Duration, expected: String, hint: String = ""
        ) throws
            -> Duration
        {
            guard let raw = value(name) else { return fallback }
            guard let interval = try parseInterval(raw, variable: name) else {
                throw SettingsError(variable: name, problem: "expected \(expected), got \"\(raw)\"\(hint)")
            }
            return interval
        }
        /// A wait that may be zero: `0`, or an interval such as `5s`.
        func grace(_ name: String, default fallback: Duration) throws -> Duration {
            value(name) == "0"
                ? .zero : try requiredInterval(name, default: fallback, expected: "an interval such as 5s, or 0")
        }
        func boolean(_ name: String) throws -> Bool {
            guard let raw = value(name) else { return false }
            switch raw.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw SettingsError(variable: name, problem: "expected true or false, got \"\(raw)\"")
            }
        }

        let difyBaseURL = try value("DIFY_BASE_URL").map { try parseHTTPURL($0, variable: "DIFY_BASE_URL") }
        let overrides = try parseDifyOverrides(env)

        var secret = value("CHAT_GATEWAY_JWT_SECRET")
        let ephemeral = secret == nil
        if isProduction {
            guard secret != nil else {
                throw SettingsError(
                    variable: "CHAT_GATEWAY_JWT_SECRET",
                    problem: "required in production (generate one with `chat-gateway gen-env`)")
            }
            guard difyBaseURL != nil else {
                throw SettingsError(
                    variable: "DIFY_BASE_URL",
                    problem: "required in production (the demo upstream is for development only)")
            }
        }
        if secret == nil { secret = String.randomHex(bytes: 32) }

        let port = try integer("PORT", default: 8088, range: 0...65535)
        let allowed = Set(list("ALLOWED_SYSTEM_IDS").map { $0.lowercased() })
        for id in allowed where !IdentityRules.isValidSystemID(id) {
            throw SettingsError(
                variable: "ALLOWED_SYSTEM_IDS",
                problem: "\"\(id)\" is not a valid system id (^[a-z0-9][a-z0-9-]{0,63}$)")
        }
        let origins = try list("ALLOWED_CHAT_TOKEN_ORIGINS").map { try parseOrigin($0) }
        let timeout = try integer("DIFY_TIMEOUT", default: 100, range: 1...3600)
        let apiKeys = try APIKeyEntry.parseList(list("CHAT_GATEWAY_API_KEY"), variable: "CHAT_GATEWAY_API_KEY")
        let browserKeys = try APIKeyEntry.parseList(
            list("CHAT_GATEWAY_BROWSER_KEY"), variable: "CHAT_GATEWAY_BROWSER_KEY")
        if browserKeys.contains(where: { browser in apiKeys.contains { $0.key == browser.key } }) {
            throw SettingsError(
                variable: "CHAT_GATEWAY_BROWSER_KEY", problem: "a browser key must not also be in CHAT_GATEWAY_API_KEY")
        }

        let settings = Settings(
            difyBaseURL: difyBaseURL,
            difyAPIKey: value("DIFY_API_KEY"),
            difySystemOverrides: overrides,
            difyTimeout: .seconds(timeout),
            difyMaxConnections: try integer("DIFY_MAX_CONNECTIONS", default: 1024, range: 1...100_000),
            difyStreamIdleTimeout: .seconds(try integer("DIFY_STREAM_IDLE_TIMEOUT", default: 60, range: 1...3600)),
            streamKeepAlive: .seconds(try integer("STREAM_KEEPALIVE_SECONDS", default: 15, range: 1...3600)),
            jwtSecret: secret!,
            jwtSecretIsEphemeral: ephemeral,
            jwtPreviousSecret: value("CHAT_GATEWAY_JWT_PREVIOUS_SECRET"),
            jwtPolicy: ChatTokenPolicy(
                audience: value("CHAT_GATEWAY_JWT_AUDIENCE"),
                issuer: value("CHAT_GATEWAY_JWT_ISSUER"),
                maxLifetime: try value("CHAT_GATEWAY_JWT_MAX_LIFETIME")
                    .flatMap { try parseInterval($0, variable: "CHAT_GATEWAY_JWT_MAX_LIFETIME") }
                    .map { TimeInterval($0.components.seconds) },
                leeway: TimeInterval(
                    try integer("CHAT_GATEWAY_JWT_LEEWAY", default: Int(ChatTokenPolicy.defaultLeeway), range: 0...300))
            ),
            apiKeys: apiKeys,
            database: try parseDatabaseURL(value("DATABASE_URL") ?? defaultDatabaseURL),
            allowedSystemIDs: allowed,
            allowedChatTokenOrigins: origins,
            host: value("HOST") ?? "0.0.0.0",
            port: port,
            maxMessageCharacters: try integer("MAX_MESSAGE_CHARS", default: 8000, range: 1...1_000_000),
            maxRequestBytes: try integer("MAX_REQUEST_BYTES", default: 262_144, range: 1024...67_108_864),
            maxUploadBytes: try integer("MAX_UPLOAD_BYTES", default: 104_857_600, range: 1024...4_294_967_296),
            publicBaseURL: value("PUBLIC_BASE_URL") ?? "http://localhost:\(port)",
            syncInterval: try value("SYNC_INTERVAL").flatMap { try parseInterval($0, variable: "SYNC_INTERVAL") },
            syncConcurrency: try integer("SYNC_CONCURRENCY", default: 4, range: 1...64),
            databasePoolSize: try integer("DATABASE_POOL_SIZE", default: 8, range: 1...256),
            rateLimitPerUser: try value("RATE_LIMIT_PER_USER").flatMap {
                try parseRateLimit($0, variable: "RATE_LIMIT_PER_USER")
            },
            rateLimitPerKey: try value("RATE_LIMIT_PER_KEY").flatMap {
                try parseRateLimit($0, variable: "RATE_LIMIT_PER_KEY")
            },
            maxStreamsPerUser: try value("MAX_STREAMS_PER_USER").flatMap {
                $0.lowercased() == "off" ? nil : try integer("MAX_STREAMS_PER_USER", default: 0, range: 1...1000)
            },
            browserKeys: browserKeys,
            difyCircuitFailures: try integer("DIFY_CIRCUIT_FAILURES", default: 5, range: 0...1000),
            difyCircuitCooldown: try requiredInterval(
                "DIFY_CIRCUIT_COOLDOWN", default: .seconds(30), expected: "a cool-down such as 30s or 2m",
                hint: " (DIFY_CIRCUIT_FAILURES=0 turns the breaker off)"),
            // NIO's parser closes the connection above 80 KB of headers, before any limit here can answer.
            maxHeaderBytes: try integer("MAX_HEADER_BYTES", default: 16_384, range: 1024...81_920),
            requestHeadTimeout: try requiredInterval(
                "REQUEST_HEAD_TIMEOUT", default: .seconds(30), expected: "an interval such as 30s or 2m"),
            logSQL: try boolean("LOG_SQL"),
            encryptionKey: try value("CHAT_GATEWAY_ENCRYPTION_KEY").map { key in
                guard key.utf8.count >= 32 else {
                    throw SettingsError(
                        variable: "CHAT_GATEWAY_ENCRYPTION_KEY",
                        problem: "must be at least 32 characters (generate one with `chat-gateway gen-env`)")
                }
                return key
            },
            rateLimitTokenIssuance: try parseRateLimit(
                value("RATE_LIMIT_TOKEN_ISSUANCE") ?? "60/min", variable: "RATE_LIMIT_TOKEN_ISSUANCE"),
            trustedProxies: try ranges("TRUSTED_PROXIES"),
            difyAllowedNetworks: try ranges("DIFY_ALLOWED_NETWORKS"),
            adminKeys: list("CHAT_GATEWAY_ADMIN_KEY"),
            budgetPerUser: try value("BUDGET_PER_USER").map {
                try BudgetLimit.parseList($0, variable: "BUDGET_PER_USER")
            }
                ?? [],
            metricsKey: value("METRICS_KEY"),
            shutdownGraceReady: try grace("SHUTDOWN_GRACE_READY", default: .seconds(5)),
            shutdownGrace: try grace("SHUTDOWN_GRACE", default: .seconds(30)),
            idempotencyTTL: try requiredInterval(
                "IDEMPOTENCY_TTL", default: .seconds(86_400), expected: "an interval such as 24h or 30m"),
            idempotencyWait: try requiredInterval(
                "IDEMPOTENCY_WAIT", default: .seconds(30), expected: "an interval such as 30s or 2m"),
            turnLease: try requiredInterval(
                "TURN_LEASE", default: .seconds(30), expected: "an interval such as 30s or 2m"),
            openAIModelNames: try parseOpenAIModelNames(env),
            openWebUIUserJWTSecret: value("OPENWEBUI_USER_JWT_SECRET"),
            rateLimitMedia: try parseRateLimit(value("RATE_LIMIT_MEDIA") ?? "30/min", variable: "RATE_LIMIT_MEDIA"),
            maxVoiceBytes: try integer("MAX_VOICE_BYTES", default: 10_485_760, range: 1024...104_857_600),
            pageSettings: try parsePageSettings(env),
            webhookRetrySchedule: try value("WEBHOOK_RETRY_SCHEDULE").map {
                try WebhookRetrySchedule(parsing: $0, variable: "WEBHOOK_RETRY_SCHEDULE")
            } ?? .standard,
            webhookAllowedNetworks: try ranges("WEBHOOK_ALLOWED_NETWORKS"),
            retentionDays: try value("RETENTION_DAYS").map { _ in
                try integer("RETENTION_DAYS", default: 0, range: 1...36_500)
            },
            retentionInterval: try parseInterval(value("RETENTION_INTERVAL") ?? "1h", variable: "RETENTION_INTERVAL")
        )
        guard settings.shutdownGrace >= settings.shutdownGraceReady else {
            throw SettingsError(variable: "SHUTDOWN_GRACE", problem: "must not be shorter than SHUTDOWN_GRACE_READY")
        }
        // A stream's keep-alives are what keep it from looking silent.
        guard settings.requestHeadTimeout > settings.streamKeepAlive else {
            throw SettingsError(
                variable: "REQUEST_HEAD_TIMEOUT", problem: "must be longer than STREAM_KEEPALIVE_SECONDS")
        }
        return settings
    }

    /// `DIFY_<SYSTEM>_BASE_URL` / `DIFY_<SYSTEM>_API_KEY` for any system; the segment is the system id
    /// upper-cased with `-` as `_`.
    static func parseDifyOverrides(_ env: [String: String]) throws -> [String: DifyOverride] {
        var result: [String: DifyOverride] = [:]
        for (name, raw) in env where name.hasPrefix("DIFY_") {
            let value = raw.trimmingCharacters(in: .whitespaces)
            guard !value.isEmpty else { continue }
            if name.hasSuffix("_BASE_URL"), name != "DIFY_BASE_URL" {
                let segment = String(name.dropFirst(5).dropLast(9))
                guard !segment.isEmpty else { continue }
                result[segment, default: DifyOverride()].baseURL = try parseHTTPURL(value, variable: name)
            } else if name.hasSuffix("_API_KEY"), name != "DIFY_API_KEY" {
                let segment = String(name.dropFirst(5).dropLast(8))
                guard !segment.isEmpty else { continue }
                result[segment, default: DifyOverride()].apiKey = value
            }
        }
        return result
    }

    /// `DIFY_<SYSTEM>_OPENAI_MODEL`: a system's model id on `/openai/v1`; two systems may not share one.
    /// The `DIFY_<SYSTEM><suffix>` variables: each one's name, `<SYSTEM>` segment and value, trimmed.
    static func systemVariables(
        _ env: [String: String], suffix: String
    ) -> [(variable: String, segment: String, value: String)] {
        env.compactMap { name, raw in
            guard name.hasPrefix("DIFY_"), name.hasSuffix(suffix), name.count > 5 + suffix.count else { return nil }
            return (name, String(name.dropFirst(5).dropLast(suffix.count)), raw.trimmingCharacters(in: .whitespaces))
        }
    }

    static func parseOpenAIModelNames(_ env: [String: String]) throws -> [String: String] {
        var names: [String: String] = [:]
        for (name, segment, model) in systemVariables(env, suffix: "_OPENAI_MODEL") {
            guard !model.isEmpty else { continue }
            guard OpenAIModels.isValidName(model) else {
                throw SettingsError(variable: name, problem: "expected a model name without spaces or slashes")
            }
            if let other = names.first(where: { $0.value == model }) {
                throw SettingsError(
                    variable: name, problem: "\"\(model)\" already names DIFY_\(other.key)_OPENAI_MODEL's system")
            }
            names[segment] = model
        }
        return names
    }

    static func parseHTTPURL(_ raw: String, variable: String) throws -> URL {
        guard let url = URL.http(raw) else {
            throw SettingsError(
                variable: variable, problem: "expected an http(s) URL such as https://dify.example.com, got \"\(raw)\"")
        }
        return url
    }

    /// `90s`, `5m`, `2h`, `1d` or plain seconds; `0` or `off` means never.
    static func parseInterval(_ raw: String, variable: String) throws -> Duration? {
        let text = raw.lowercased()
        if text == "off" || text == "0" { return nil }
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        let (digits, unit) = units[text.last ?? " "].map { (text.dropLast(), $0) } ?? (Substring(text), 1)
        guard let amount = Int64(digits), amount > 0, amount <= 30 * 86_400 / unit else {
            throw SettingsError(
                variable: variable, problem: "expected an interval such as 30s, 5m, 1h or off, got \"\(raw)\"")
        }
        return .seconds(amount * unit)
    }

    /// `N/s`, `N/min`, `N/h` (also `sec`, `second`, `m`, `minute`, `hour`); `off` or `0` means no limit.
    static func parseRateLimit(_ raw: String, variable: String) throws -> RateLimit? {
        let text = raw.lowercased().replacingOccurrences(of: " ", with: "")
        if text == "off" || text == "0" { return nil }
        let periods: [String: TimeInterval] = [
            "s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600,
        ]
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[0]), (1...1_000_000).contains(count),
            let period = periods[String(parts[1])]
        else {
            throw SettingsError(
                variable: variable, problem: "expected a rate such as 20/min, 5/s, 600/h or off, got \"\(raw)\"")
        }
        return RateLimit(count: count, period: period)
    }

    static func parseOrigin(_ raw: String) throws -> String {
        let url = try parseHTTPURL(raw, variable: "ALLOWED_CHAT_TOKEN_ORIGINS")
        return OriginPolicy.origin(of: url) ?? raw
    }

    static func parseDatabaseURL(_ raw: String) throws -> Database {
        // SQLAlchemy URLs name a driver after `+` (sqlite+aiosqlite, postgresql+asyncpg); the driver is ours to pick.
        guard let colon = raw.firstIndex(of: ":") else {
            throw SettingsError(
                variable: "DATABASE_URL", problem: "expected sqlite:///path or postgres://user:pass@host:port/db")
        }
        let scheme = raw[..<colon].split(separator: "+").first.map { $0.lowercased() } ?? ""
        let rest = String(raw[colon...])
        switch scheme {
        case "sqlite":
            // sqlite:///./file.db (relative) and sqlite:////abs/file.db (absolute), as SQLAlchemy spells them.
            var path = String(rest.dropFirst())
            if path.hasPrefix("///") {
                path = String(path.dropFirst(3))
            } else if path.hasPrefix("//") {
                path = String(path.dropFirst(2))
            }
            if let query = path.firstIndex(of: "?") { path = String(path[..<query]) }
            guard !path.isEmpty else {
                throw SettingsError(variable: "DATABASE_URL", problem: "sqlite URL has no file path")
            }
            return .sqlite(path: path)
        case "postgres", "postgresql":
            let normalized = scheme + rest
            guard let url = URL(string: normalized), url.host != nil else {
                throw SettingsError(variable: "DATABASE_URL", problem: "unparsable PostgreSQL URL")
            }
            return .postgres(url: normalized)
        default:
            throw SettingsError(
                variable: "DATABASE_URL",
                problem: "unknown scheme \"\(scheme)\"; expected sqlite:///path or postgres://user:pass@host:port/db")
        }
    }
}
