import Logging

/// The start-up lines about the configured keys: how many, and which systems each serves, by position only
/// (`key #2: drillquiz`); never a key.
struct KeyScopeLog {
    let settings: Settings

    var lines: [(level: Logger.Level, message: String)] {
        var lines: [(Logger.Level, String)] = []
        if settings.apiKeys.isEmpty {
            lines.append(
                (
                    .warning,
                    "CHAT_GATEWAY_API_KEY is empty: API key authentication is disabled and every X-API-Key is refused"
                ))
        } else {
            lines.append((.info, "CHAT_GATEWAY_API_KEY: " + Self.describe(settings.apiKeys)))
            let plain = settings.apiKeys.indices.filter { settings.apiKeys[$0].scope == .allSystems }.map {
                "#\($0 + 1)"
            }
            if !plain.isEmpty {
                lines.append(
                    (
                        .warning,
                        "CHAT_GATEWAY_API_KEY key \(plain.joined(separator: ", ")) has no system prefix and acts for every system; write system:KEY to limit a key to its system"
                    ))
            }
        }
        if !settings.browserKeys.isEmpty {
            lines.append(
                (
                    .info,
                    "CHAT_GATEWAY_BROWSER_KEY (chat tokens for anonymous visitors only): "
                        + Self.describe(settings.browserKeys)
                ))
        }
        return lines
    }

    func write(to logger: Logger) {
        for line in lines { logger.log(level: line.level, "\(line.message)") }
    }

    /// `2 keys; key #1: all systems, key #2: drillquiz`.
    static func describe(_ entries: [APIKeyEntry]) -> String {
        "\(entries.count) key\(entries.count == 1 ? "" : "s"); "
            + entries.enumerated().map { "key #\($0.offset + 1): \($0.element.scope.summary)" }.joined(separator: ", ")
    }
}
