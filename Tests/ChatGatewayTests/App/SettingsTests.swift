import Foundation
import Testing

@testable import ChatGateway

@Suite("Settings", .hangLimit)
struct SettingsTests {
    @Test func defaultsNeedNothing() throws {
        let settings = try Settings.parse(environment: [:], isProduction: false)
        #expect(settings.usesDemoUpstream)
        #expect(settings.jwtSecretIsEphemeral)
        #expect(settings.jwtSecret.count == 64)
        #expect(settings.database == .sqlite(path: "./chat_gateway.db"))
        #expect(settings.host == "0.0.0.0")
        #expect(settings.port == 8088)
        #expect(settings.apiKeys.isEmpty)
        #expect(settings.maxMessageCharacters == 8000)
    }

    @Test func readsTheSeedsVariables() throws {
        let settings = try Settings.parse(
            environment: [
                "DIFY_BASE_URL": "https://dify.example.com", "DIFY_API_KEY": "app-shared",
                "DIFY_DRILLQUIZ_API_KEY": "app-dq", "DIFY_COIN_TUTOR_BASE_URL": "http://ct.local:5001/v1",
                "CHAT_GATEWAY_JWT_SECRET": "s", "CHAT_GATEWAY_API_KEY": "k1, k2,",
                "DATABASE_URL": "postgresql://u:p@db:5432/gw", "ALLOWED_SYSTEM_IDS": "drillquiz,cointutor",
                "ALLOWED_CHAT_TOKEN_ORIGINS": "http://localhost:8080/", "HOST": "127.0.0.1", "PORT": "9000",
            ], isProduction: true)
        #expect(settings.apiKeys == [APIKeyEntry(key: "k1"), APIKeyEntry(key: "k2")])
        #expect(settings.database == .postgres(url: "postgresql://u:p@db:5432/gw"))
        #expect(settings.allowedSystemIDs == ["drillquiz", "cointutor"])
        #expect(settings.allowedChatTokenOrigins == ["http://localhost:8080"])
        #expect(settings.port == 9000)
        let resolver = DifyTargetResolver(
            sharedBaseURL: settings.difyBaseURL, sharedAPIKey: settings.difyAPIKey,
            overrides: settings.difySystemOverrides)
        #expect(try resolver.target(forSystem: "drillquiz").apiKey == "app-dq")
        #expect(try resolver.target(forSystem: "drillquiz").baseURL.absoluteString == "https://dify.example.com")
        #expect(try resolver.target(forSystem: "coin-tutor").url("messages") == "http://ct.local:5001/v1/messages")
        #expect(try resolver.target(forSystem: "coin-tutor").apiKey == "app-shared")
        #expect(
            try resolver.target(forSystem: "other").url("chat-messages") == "https://dify.example.com/v1/chat-messages")
    }

    @Test(arguments: [
        (["DIFY_BASE_URL": "not a url"], "DIFY_BASE_URL"),
        (["DIFY_BASE_URL": "ftp://x"], "DIFY_BASE_URL"),
        (["DIFY_DRILLQUIZ_BASE_URL": "::"], "DIFY_DRILLQUIZ_BASE_URL"),
        (["DATABASE_URL": "mysql://x"], "DATABASE_URL"),
        (["PORT": "eighty"], "PORT"),
        (["ALLOWED_SYSTEM_IDS": "Bad_ID"], "ALLOWED_SYSTEM_IDS"),
        (["ALLOWED_CHAT_TOKEN_ORIGINS": "localhost"], "ALLOWED_CHAT_TOKEN_ORIGINS"),
        (["MAX_MESSAGE_CHARS": "0"], "MAX_MESSAGE_CHARS"),
        (["CHAT_GATEWAY_JWT_MAX_LIFETIME": "a day"], "CHAT_GATEWAY_JWT_MAX_LIFETIME"),
        (["CHAT_GATEWAY_JWT_LEEWAY": "-5"], "CHAT_GATEWAY_JWT_LEEWAY"),
        (["RATE_LIMIT_PER_USER": "20 per minute"], "RATE_LIMIT_PER_USER"),
        (["RATE_LIMIT_PER_KEY": "600/day"], "RATE_LIMIT_PER_KEY"),
        (["MAX_STREAMS_PER_USER": "0"], "MAX_STREAMS_PER_USER"),
        (["SHUTDOWN_GRACE": "soon"], "SHUTDOWN_GRACE"),
        (["SHUTDOWN_GRACE_READY": "off"], "SHUTDOWN_GRACE_READY"),
        (["SHUTDOWN_GRACE_READY": "10s", "SHUTDOWN_GRACE": "5s"], "SHUTDOWN_GRACE"),
    ])
    func badValuesNameTheVariable(environment: [String: String], variable: String) {
        #expect { try Settings.parse(environment: environment, isProduction: false) } throws: { error in
            (error as? SettingsError)?.variable == variable
        }
    }

    @Test func shutdownGracesAndTheMetricsKey() throws {
        let defaults = try Settings.parse(environment: [:], isProduction: false)
        #expect(defaults.shutdownGraceReady == .seconds(5) && defaults.shutdownGrace == .seconds(30))
        #expect(defaults.metricsKey == nil)
        let set = try Settings.parse(
            environment: ["SHUTDOWN_GRACE_READY": "0", "SHUTDOWN_GRACE": "2m", "METRICS_KEY": "scrape-me"],
            isProduction: false)
        #expect(set.shutdownGraceReady == .zero && set.shutdownGrace == .seconds(120))
        #expect(set.metricsKey == "scrape-me")
    }

    @Test func tokenPolicyIsOptional() throws {
        #expect(try Settings.parse(environment: [:], isProduction: false).jwtPolicy == ChatTokenPolicy(leeway: 30))
        let settings = try Settings.parse(
            environment: [
                "CHAT_GATEWAY_JWT_AUDIENCE": "chat", "CHAT_GATEWAY_JWT_ISSUER": "backend",
                "CHAT_GATEWAY_JWT_MAX_LIFETIME": "24h",
                "CHAT_GATEWAY_JWT_LEEWAY": "5", "CHAT_GATEWAY_JWT_PREVIOUS_SECRET": "old",
            ], isProduction: false)
        #expect(
            settings.jwtPolicy == ChatTokenPolicy(audience: "chat", issuer: "backend", maxLifetime: 86_400, leeway: 5))
        #expect(settings.jwtPreviousSecret == "old")
    }

    @Test func limitsAreOffUnlessConfigured() throws {
        let defaults = try Settings.parse(environment: [:], isProduction: false)
        #expect(defaults.rateLimitPerUser == nil)
        #expect(defaults.rateLimitPerKey == nil)
        #expect(defaults.maxStreamsPerUser == nil)
        let tuned = try Settings.parse(
            environment: ["RATE_LIMIT_PER_USER": "5/s", "RATE_LIMIT_PER_KEY": "600/min", "MAX_STREAMS_PER_USER": "1"],
            isProduction: false)
        #expect(tuned.rateLimitPerUser == RateLimit(count: 5, period: 1))
        #expect(tuned.rateLimitPerKey == RateLimit(count: 600, period: 60))
        #expect(tuned.maxStreamsPerUser == 1)
        let off = try Settings.parse(
            environment: ["RATE_LIMIT_PER_USER": "off", "RATE_LIMIT_PER_KEY": "0", "MAX_STREAMS_PER_USER": "OFF"],
            isProduction: false)
        #expect(off.rateLimitPerUser == nil && off.rateLimitPerKey == nil && off.maxStreamsPerUser == nil)
    }

    @Test func productionNeedsASecretAndADify() {
        #expect { try Settings.parse(environment: ["DIFY_BASE_URL": "https://d"], isProduction: true) } throws: {
            ($0 as? SettingsError)?.variable == "CHAT_GATEWAY_JWT_SECRET"
        }
        #expect { try Settings.parse(environment: ["CHAT_GATEWAY_JWT_SECRET": "s"], isProduction: true) } throws: {
            ($0 as? SettingsError)?.variable == "DIFY_BASE_URL"
        }
    }

    @Test func sqliteURLsAsTheSeedWroteThem() throws {
        #expect(try Settings.parseDatabaseURL("sqlite:///./chat_gateway.db") == .sqlite(path: "./chat_gateway.db"))
        #expect(try Settings.parseDatabaseURL("sqlite:////var/lib/gw.db") == .sqlite(path: "/var/lib/gw.db"))
        #expect(try Settings.parseDatabaseURL("sqlite+aiosqlite:///./x.db") == .sqlite(path: "./x.db"))
    }
}

/// `CHAT_GATEWAY_API_KEY` / `CHAT_GATEWAY_BROWSER_KEY` entries: `KEY`, `system:KEY`, `a+b:KEY`.
extension SettingsTests {
    @Test func readsKeyScopes() throws {
        let settings = try Settings.parse(
            environment: [
                "CHAT_GATEWAY_API_KEY": "plain-key, drillquiz:dq-key, drillquiz+coin-tutor:both-key",
                "CHAT_GATEWAY_BROWSER_KEY": "drillquiz:browser-key",
            ], isProduction: false)
        #expect(
            settings.apiKeys == [
                APIKeyEntry(key: "plain-key"),
                APIKeyEntry(key: "dq-key", scope: .systems(["drillquiz"])),
                APIKeyEntry(key: "both-key", scope: .systems(["drillquiz", "coin-tutor"])),
            ])
        #expect(settings.browserKeys == [APIKeyEntry(key: "browser-key", scope: .systems(["drillquiz"]))])
    }

    @Test func onlyTheFirstColonSeparatesTheScope() throws {
        let settings = try Settings.parse(
            environment: ["CHAT_GATEWAY_API_KEY": "drillquiz:key:with:colons"], isProduction: false)
        #expect(settings.apiKeys == [APIKeyEntry(key: "key:with:colons", scope: .systems(["drillquiz"]))])
    }

    @Test(arguments: [
        ("CHAT_GATEWAY_API_KEY", "ok-key, DrillQuiz:secret-1"),
        ("CHAT_GATEWAY_API_KEY", "drill_quiz:secret-1"),
        ("CHAT_GATEWAY_API_KEY", "drillquiz+:secret-1"),
        ("CHAT_GATEWAY_API_KEY", ":secret-1"),
        ("CHAT_GATEWAY_API_KEY", "drillquiz:"),
        ("CHAT_GATEWAY_API_KEY", "secret-1, drillquiz:secret-1"),
        ("CHAT_GATEWAY_BROWSER_KEY", "drillquiz cointutor:secret-1"),
    ])
    func badKeyScopesNameTheVariableNotTheKey(variable: String, raw: String) {
        #expect { try Settings.parse(environment: [variable: raw], isProduction: false) } throws: { error in
            guard let error = error as? SettingsError else { return false }
            return error.variable == variable && !error.description.contains("secret")
        }
    }

    @Test func aBrowserKeyMustNotAlsoBeAServerKey() {
        #expect {
            try Settings.parse(
                environment: ["CHAT_GATEWAY_API_KEY": "shared-1", "CHAT_GATEWAY_BROWSER_KEY": "drillquiz:shared-1"],
                isProduction: false)
        } throws: { error in
            (error as? SettingsError)?.variable == "CHAT_GATEWAY_BROWSER_KEY" && !"\(error)".contains("shared-1")
        }
    }

    @Test func startUpLogCountsKeysAndScopesWithoutKeys() throws {
        let settings = try Settings.parse(
            environment: [
                "CHAT_GATEWAY_API_KEY": "plain-secret, drillquiz:dq-secret",
                "CHAT_GATEWAY_BROWSER_KEY": "drillquiz+cointutor:browser-secret",
            ], isProduction: false)
        let lines = KeyScopeLog(settings: settings).lines
        #expect(
            lines.map(\.message) == [
                "CHAT_GATEWAY_API_KEY: 2 keys; key #1: all systems, key #2: drillquiz",
                "CHAT_GATEWAY_API_KEY key #1 has no system prefix and acts for every system; write system:KEY to limit a key to its system",
                "CHAT_GATEWAY_BROWSER_KEY (chat tokens for anonymous visitors only): 1 key; key #1: cointutor, drillquiz",
            ])
        #expect(lines.map(\.level) == [.info, .warning, .info])
        #expect(!lines.contains { $0.message.contains("secret") })
    }
}
