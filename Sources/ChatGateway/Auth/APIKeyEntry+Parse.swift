extension APIKeyEntry {
    /// Parses a comma list's entries: `KEY`, or `system[+system…]:KEY`. System ids never contain `:` or `+`,
    /// so the part before the first `:` is a scope or a mistake, never part of the key. Errors name the
    /// variable and the entry's position, and never repeat the key (nor anything before a bad `:`).
    static func parseList(_ entries: [String], variable: String) throws -> [APIKeyEntry] {
        var parsed: [APIKeyEntry] = []
        for (index, raw) in entries.enumerated() {
            let entry = try parse(raw, variable: variable, position: index + 1)
            guard !parsed.contains(where: { $0.key == entry.key }) else {
                throw SettingsError(
                    variable: variable, problem: "entry #\(index + 1) repeats the key of an earlier entry")
            }
            parsed.append(entry)
        }
        return parsed
    }

    static func parse(_ raw: String, variable: String, position: Int) throws -> APIKeyEntry {
        guard let colon = raw.firstIndex(of: ":") else { return APIKeyEntry(key: raw) }
        let ids = raw[..<colon].split(separator: "+", omittingEmptySubsequences: false).map(String.init)
        guard ids.allSatisfy(IdentityRules.isValidSystemID) else {
            throw SettingsError(
                variable: variable,
                problem:
                    "entry #\(position) has a ':' but what precedes it is not a list of system ids such as drillquiz or drillquiz+cointutor (ids match ^[a-z0-9][a-z0-9-]{0,63}$)"
            )
        }
        let key = String(raw[raw.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        guard !key.isEmpty else {
            throw SettingsError(
                variable: variable, problem: "entry #\(position) has no key after \"\(ids.joined(separator: "+")):\"")
        }
        return APIKeyEntry(key: key, scope: .systems(Set(ids)))
    }
}
