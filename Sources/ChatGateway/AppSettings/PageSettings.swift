import Foundation

/// A system's choices for its chat page: where its answers' sources link to, whether `$…$` is math, and whether
/// it offers the user "Download my data". Set by `DIFY_<SYSTEM>_SOURCE_LINKS` / `DIFY_<SYSTEM>_INLINE_MATH` /
/// `DIFY_<SYSTEM>_SELF_EXPORT`, which win, or by the admin API's `source_links` / `inline_math` / `self_export`.
struct PageSettings: Sendable {
    /// By the variables' `<SYSTEM>` segment.
    struct Environment: Sendable, Equatable {
        var sourceLinks: [String: [SourceLink]] = [:]
        var inlineMath: [String: Bool] = [:]
        var selfExport: [String: Bool] = [:]
    }

    let registry: GatewayRegistry?
    var environment = Environment()

    func sourceLinks(of systemID: String) -> SourceLinks {
        if let links = environment.sourceLinks[DifyTargetResolver.environmentSegment(for: systemID)] {
            return SourceLinks(links: links)
        }
        return registry?.system(systemID)?.sourceLinks ?? SourceLinks()
    }

    func inlineMath(of systemID: String) -> Bool {
        environment.inlineMath[DifyTargetResolver.environmentSegment(for: systemID)]
            ?? registry?.system(systemID)?.inlineMath ?? false
    }

    func selfExport(of systemID: String) -> Bool {
        environment.selfExport[DifyTargetResolver.environmentSegment(for: systemID)]
            ?? registry?.system(systemID)?.selfExport ?? false
    }
}

extension Settings {
    /// `DIFY_<SYSTEM>_SOURCE_LINKS` (a JSON array of `{dataset_id?, document_id?, url}`) and
    /// `DIFY_<SYSTEM>_INLINE_MATH` (`true` or `false`).
    static func parsePageSettings(_ env: [String: String]) throws -> PageSettings.Environment {
        var settings = PageSettings.Environment()
        for (name, segment, value) in systemVariables(env, suffix: "_SOURCE_LINKS") {
            guard let links = try? JSONDecoder().decode([SourceLink].self, from: Data(value.utf8)) else {
                throw SettingsError(
                    variable: name,
                    problem: #"expected a JSON array such as [{"url": "https://kb.example/{document_id}"}]"#)
            }
            if let problem = SourceLink.problem(in: links) { throw SettingsError(variable: name, problem: problem) }
            settings.sourceLinks[segment] = links
        }
        for (suffix, path) in [("_INLINE_MATH", \PageSettings.Environment.inlineMath), ("_SELF_EXPORT", \.selfExport)] {
            for (name, segment, value) in systemVariables(env, suffix: suffix) {
                guard let on = Bool(value.lowercased()) else {
                    throw SettingsError(variable: name, problem: "expected true or false")
                }
                settings[keyPath: path][segment] = on
            }
        }
        return settings
    }
}
