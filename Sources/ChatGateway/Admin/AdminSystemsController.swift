import Foundation
import Vapor

/// `/admin/v1/systems`: client systems as data (create, list, read, change, delete, check their Dify), beside the
/// read-only ones the environment configures.
struct AdminSystemsController: RouteCollection {
    let registry: GatewayRegistry
    let environment: EnvironmentSystems
    let dify: any DifyClient
    let addresses: DifyAddressPolicy
    /// Dify checks per admin: each is a request to a host the admin chose.
    let checks: RateLimiter
    let now: @Sendable () -> Date

    init(
        registry: GatewayRegistry, environment: EnvironmentSystems, dify: any DifyClient,
        addresses: DifyAddressPolicy, now: @escaping @Sendable () -> Date
    ) {
        self.registry = registry
        self.environment = environment
        self.dify = dify
        self.addresses = addresses
        checks = RateLimiter(limit: RateLimit(count: 10, period: 60), now: now)
        self.now = now
    }

    func boot(routes: any RoutesBuilder) throws {
        let systems = routes.grouped("systems")
        systems.post(use: create)
        systems.get(use: list)
        let system = systems.grouped(":system_id")
        system.get(use: show)
        system.patch(use: update)
        system.delete(use: delete)
        system.post("check", use: check)
    }

    @Sendable
    func create(_ req: Request) async throws -> Response {
        let input = try req.content.decode(SystemInput.self)
        guard let systemID = input.systemID else { throw AdminError.invalid("system_id is required") }
        guard IdentityRules.isValidSystemID(systemID) else { throw AdminError.invalid(IdentityRules.systemIDRule) }
        if environment.defines(systemID) { throw AdminError.definedByEnvironment(systemID: systemID) }
        try await registry.refresh()
        guard registry.system(systemID) == nil else { throw AdminError.systemExists }
        let stamp = now()
        var row = AdminStore.SystemRow(
            systemID: systemID, name: systemID, allowedOrigins: "[]", enabled: true, createdAt: stamp, updatedAt: stamp)
        try apply(input, to: &row)
        try await checkDify(row, before: nil)
        try await registry.store.save(
            row, audit: audit(req, "system.created", systemID, input.auditDetail + Self.hostChange(nil, row)))
        try await registry.refresh()
        return try await view(systemID).encodeResponse(status: .created, for: req)
    }

    @Sendable
    func list(_ req: Request) async throws -> [SystemView] {
        let managed = registry.current.systems.values.filter { !environment.defines($0.systemID) }.map(SystemView.init)
        return (environment.views() + managed).sorted { $0.systemID < $1.systemID }
    }

    @Sendable
    func show(_ req: Request) async throws -> SystemView {
        try view(try req.parameters.require("system_id"))
    }

    @Sendable
    func update(_ req: Request) async throws -> SystemView {
        let systemID = try req.parameters.require("system_id")
        if environment.defines(systemID) { throw AdminError.definedByEnvironment(systemID: systemID) }
        let input = try req.content.decode(SystemInput.self)
        if let renamed = input.systemID, renamed != systemID { throw AdminError.invalid("system_id cannot change") }
        guard let rowBefore = try await registry.store.systems().first(where: { $0.systemID == systemID }) else {
            throw AdminError.systemNotFound
        }
        var row = rowBefore
        try apply(input, to: &row)
        try await checkDify(row, before: rowBefore)
        row.updatedAt = now()
        try await registry.store.save(
            row, audit: audit(req, "system.changed", systemID, input.auditDetail + Self.hostChange(rowBefore, row)))
        try await registry.refresh()
        return try view(systemID)
    }

    @Sendable
    func delete(_ req: Request) async throws -> HTTPStatus {
        let systemID = try req.parameters.require("system_id")
        if environment.defines(systemID) { throw AdminError.definedByEnvironment(systemID: systemID) }
        try await registry.refresh()
        guard registry.system(systemID) != nil else { throw AdminError.systemNotFound }
        try await registry.store.deleteSystem(
            systemID, audit: audit(req, "system.deleted", systemID, "stored conversations kept"))
        try await registry.refresh()
        return .noContent
    }

    /// Calls the system's Dify (`GET /info`, then `/parameters` for a Dify without it); a Dify that is down is
    /// `ok: false`, never a 5xx of ours. The answer is coarse (`reason`), never the upstream's own text: the check
    /// must not tell an admin more about a host than whether a Dify app answers there.
    @Sendable
    func check(_ req: Request) async throws -> DifyCheck {
        let systemID = try req.parameters.require("system_id")
        guard environment.lists(systemID) || registry.system(systemID) != nil else { throw AdminError.systemNotFound }
        if case .limited(let seconds) = await checks.acquire(req.adminActor) {
            throw LimitError.rateLimited(scope: .difyChecks, retryAfter: seconds)
        }
        let started = ContinuousClock.now
        var host = "none"
        var reason = DifyCheck.Reason.ok
        do {
            let target = try environment.targets.target(forSystem: systemID)
            host = target.baseURL.host ?? "none"
            try await dify.checkApp(at: target)
        } catch {
            reason = DifyCheck.Reason(error as? DifyError ?? .unreachable(""))
        }
        let latency = Int((ContinuousClock.now - started).milliseconds)
        try await registry.store.record(
            audit(req, "system.dify_checked", systemID, "host: \(host); result: \(reason.rawValue)"))
        return DifyCheck(ok: reason == .ok, reason: reason, latencyMS: latency)
    }

    /// A system's own Dify URL: of the allowed form and addresses, and never without its own key.
    private func checkDify(_ row: AdminStore.SystemRow, before: AdminStore.SystemRow?) async throws {
        guard let text = row.difyBaseURL else { return }
        guard row.difyAPIKeySealed != nil else { throw AdminError.difyKeyRequired }
        guard text != before?.difyBaseURL, let url = URL(string: text) else { return }
        do {
            try await addresses.check(url)
        } catch {
            throw AdminError.invalid("dify_base_url: \(error.description)")
        }
    }

    /// `; dify host: a → b` when the URL's host changed, for the audit log.
    static func hostChange(_ before: AdminStore.SystemRow?, _ after: AdminStore.SystemRow) -> String {
        func host(_ row: AdminStore.SystemRow?) -> String {
            row?.difyBaseURL.flatMap { URL(string: $0)?.host } ?? "none"
        }
        guard before?.difyBaseURL != after.difyBaseURL else { return "" }
        return "; dify host: \(host(before)) → \(host(after))"
    }

    private func view(_ systemID: String) throws -> SystemView {
        if let view = environment.views().first(where: { $0.systemID == systemID }),
            environment.defines(systemID) || registry.system(systemID) == nil
        {
            return view
        }
        guard let system = registry.system(systemID) else { throw AdminError.systemNotFound }
        return SystemView(system)
    }

    private func apply(_ input: SystemInput, to row: inout AdminStore.SystemRow) throws {
        if let name = input.name {
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 200 else {
                throw AdminError.invalid("name must be 1 to 200 characters")
            }
            row.name = name
        }
        if let url = input.difyBaseURL {
            if !url.isEmpty, let problem = DifyAddressPolicy.formProblem(url) {
                throw AdminError.invalid("dify_base_url \(problem)")
            }
            let changed = (url.isEmpty ? nil : url) != row.difyBaseURL
            row.difyBaseURL = url.isEmpty ? nil : url
            // The stored key was for the old host: it never follows the URL to a new one.
            if changed, input.difyAPIKey == nil {
                row.difyAPIKeySealed = nil
                row.difyAPIKeyHint = nil
            }
        }
        if let key = input.difyAPIKey {
            if key.isEmpty {
                row.difyAPIKeySealed = nil
                row.difyAPIKeyHint = nil
            } else {
                guard let sealer = registry.sealer else { throw AdminError.encryptionKeyMissing }
                guard !key.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                    throw AdminError.invalid("dify_api_key must not contain control characters")
                }
                row.difyAPIKeySealed = try sealer.seal(key)
                row.difyAPIKeyHint = SecretSealer.hint(key)
            }
        }
        if let origins = input.allowedOrigins {
            let normalized = try origins.map { origin in
                // CORS matches origins literally, so a `*` would be a CSP wildcard that CORS never grants.
                guard !origin.contains("*"), let url = URL.http(origin),
                    let normal = OriginPolicy.origin(of: url)
                else {
                    throw AdminError.invalid(
                        "allowed_origins: \"\(origin)\" is not an origin such as https://quiz.example.com")
                }
                return normal
            }
            row.allowedOrigins = AdminStore.text(ofList: normalized)
        }
        if let enabled = input.enabled { row.enabled = enabled }
        if let limit = input.rateLimitPerUser {
            do {
                // `""` removes the system's own limit.
                if !limit.isEmpty { _ = try Settings.parseRateLimit(limit, variable: "rate_limit_per_user") }
            } catch let error as SettingsError {
                throw AdminError.invalid(error.description)
            }
            row.rateLimitPerUser = limit.isEmpty ? nil : limit
        }
        if let streams = input.maxStreamsPerUser {
            guard (1...1000).contains(streams) else {
                throw AdminError.invalid("max_streams_per_user must be 1 to 1000")
            }
            row.maxStreamsPerUser = streams
        }
        if let model = input.openAIModel {
            guard OpenAIModels.isValidName(model) else {
                throw AdminError.invalid("openai_model must be at most 128 characters, without spaces or slashes")
            }
            if !model.isEmpty,
                registry.current.systems.values.contains(where: {
                    $0.systemID != row.systemID && ($0.openAIModel == model || $0.systemID == model)
                })
            {
                throw AdminError.invalid("openai_model \"\(model)\" already names another system")
            }
            row.openAIModel = model.isEmpty ? nil : model
        }
        if let links = input.sourceLinks {
            if let problem = SourceLink.problem(in: links) { throw AdminError.invalid(problem) }
            row.sourceLinks = links.isEmpty ? nil : String(decoding: try JSONEncoder().encode(links), as: UTF8.self)
        }
        if let inlineMath = input.inlineMath { row.inlineMath = inlineMath }
        if let days = input.retentionDays {
            guard days.map({ (0...36_500).contains($0) }) ?? true else {
                throw AdminError.invalid(
                    "retention_days must be 1 to 36500 days, 0 to keep messages until deleted, or null for RETENTION_DAYS"
                )
            }
            row.retentionDays = days
        }
        if let inDify = input.retentionDeleteInDify { row.retentionDeleteInDify = inDify }
        if let selfExport = input.selfExport { row.selfExport = selfExport }
        if let budget = input.budget {
            _ = try budget.budget()
            row.budget = budget.isEmpty ? nil : String(decoding: try JSONEncoder().encode(budget), as: UTF8.self)
        }
    }

    private func audit(_ req: Request, _ action: String, _ target: String, _ detail: String) -> AuditEntry {
        AuditEntry(at: now(), actor: req.adminActor, action: action, target: target, detail: detail)
    }
}

/// The body of `POST` and `PATCH /admin/v1/systems`; absent fields stay as they are.
struct SystemInput: Content {
    var systemID: String?
    var name: String?
    var difyBaseURL: String?
    var difyAPIKey: String?
    var allowedOrigins: [String]?
    var enabled: Bool?
    var rateLimitPerUser: String?
    var maxStreamsPerUser: Int?
    /// `{}` removes the system's budget.
    var budget: SystemBudgetFields?
    /// Its model id on `/openai/v1`; `""` goes back to the `system_id`.
    var openAIModel: String?
    /// Where its answers' sources link to; `[]` removes every mapping.
    var sourceLinks: [SourceLink]?
    /// Whether its chat page reads `$…$` as math.
    var inlineMath: Bool?
    /// Absent: unchanged; `.some(nil)` (JSON null): `RETENTION_DAYS` applies; 0: kept until deleted.
    var retentionDays: Int??
    var retentionDeleteInDify: Bool?
    var selfExport: Bool?

    enum CodingKeys: String, CodingKey {
        case systemID = "system_id", name, difyBaseURL = "dify_base_url", difyAPIKey = "dify_api_key"
        case allowedOrigins = "allowed_origins", enabled, rateLimitPerUser = "rate_limit_per_user"
        case maxStreamsPerUser = "max_streams_per_user", budget, openAIModel = "openai_model"
        case sourceLinks = "source_links", inlineMath = "inline_math", retentionDays = "retention_days"
        case retentionDeleteInDify = "retention_delete_in_dify", selfExport = "self_export"
    }

    init() {}

    /// Written out only so that `retention_days: null` (back to `RETENTION_DAYS`) differs from its absence.
    init(from decoder: any Decoder) throws {
        let fields = try decoder.container(keyedBy: CodingKeys.self)
        systemID = try fields.decodeIfPresent(String.self, forKey: .systemID)
        name = try fields.decodeIfPresent(String.self, forKey: .name)
        difyBaseURL = try fields.decodeIfPresent(String.self, forKey: .difyBaseURL)
        difyAPIKey = try fields.decodeIfPresent(String.self, forKey: .difyAPIKey)
        allowedOrigins = try fields.decodeIfPresent([String].self, forKey: .allowedOrigins)
        enabled = try fields.decodeIfPresent(Bool.self, forKey: .enabled)
        rateLimitPerUser = try fields.decodeIfPresent(String.self, forKey: .rateLimitPerUser)
        maxStreamsPerUser = try fields.decodeIfPresent(Int.self, forKey: .maxStreamsPerUser)
        budget = try fields.decodeIfPresent(SystemBudgetFields.self, forKey: .budget)
        openAIModel = try fields.decodeIfPresent(String.self, forKey: .openAIModel)
        sourceLinks = try fields.decodeIfPresent([SourceLink].self, forKey: .sourceLinks)
        inlineMath = try fields.decodeIfPresent(Bool.self, forKey: .inlineMath)
        if fields.contains(.retentionDays) {
            retentionDays = .some(
                try fields.decodeNil(forKey: .retentionDays)
                    ? nil : try fields.decode(Int.self, forKey: .retentionDays))
        }
        retentionDeleteInDify = try fields.decodeIfPresent(Bool.self, forKey: .retentionDeleteInDify)
        selfExport = try fields.decodeIfPresent(Bool.self, forKey: .selfExport)
    }

    /// Which fields changed, never their values' secrets.
    var auditDetail: String {
        let fields: [(String, Bool)] = [
            ("name", name != nil), ("dify_base_url", difyBaseURL != nil), ("dify_api_key", difyAPIKey != nil),
            ("allowed_origins", allowedOrigins != nil), ("enabled", enabled != nil),
            ("rate_limit_per_user", rateLimitPerUser != nil), ("max_streams_per_user", maxStreamsPerUser != nil),
            ("budget", budget != nil), ("openai_model", openAIModel != nil), ("source_links", sourceLinks != nil),
            ("inline_math", inlineMath != nil), ("retention_days", retentionDays != nil),
            ("retention_delete_in_dify", retentionDeleteInDify != nil), ("self_export", selfExport != nil),
        ]
        let changed = fields.filter(\.1).map(\.0)
        let state = enabled.map { $0 ? "; enabled" : "; disabled" } ?? ""
        return (changed.isEmpty ? "no fields" : "fields: " + changed.joined(separator: ", ")) + state
    }
}

/// A system as the admin API shows it: never the Dify key, only its hint.
struct SystemView: Content, Equatable {
    var systemID: String
    var name: String
    /// `admin` (this API's data) or `environment` (read-only; it wins over a definition of the same id here).
    var source: String
    var alsoDefinedByAdmin: Bool?
    var enabled: Bool
    var difyBaseURL: String?
    var difyAPIKeyHint: String?
    var difyAPIKeyReadable: Bool
    var allowedOrigins: [String]
    var rateLimitPerUser: String?
    var maxStreamsPerUser: Int?
    var budget: SystemBudgetFields?
    /// Its model id on `/openai/v1`, when an operator named one here.
    var openAIModel: String?
    var sourceLinks: [SourceLink] = []
    var inlineMath = false
    /// nil: `RETENTION_DAYS` applies; 0: kept until deleted.
    var retentionDays: Int?
    var retentionDeleteInDify = false
    var selfExport = false
    var createdAt: Date?
    var updatedAt: Date?

    enum CodingKeys: String, CodingKey {
        case systemID = "system_id", name, source, alsoDefinedByAdmin = "also_defined_by_admin", enabled
        case openAIModel = "openai_model", sourceLinks = "source_links", inlineMath = "inline_math"
        case retentionDays = "retention_days", retentionDeleteInDify = "retention_delete_in_dify"
        case selfExport = "self_export"
        case difyBaseURL = "dify_base_url", difyAPIKeyHint = "dify_api_key_hint"
        case difyAPIKeyReadable = "dify_api_key_readable", allowedOrigins = "allowed_origins"
        case rateLimitPerUser = "rate_limit_per_user", maxStreamsPerUser = "max_streams_per_user", budget
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    init(_ system: ManagedSystem) {
        systemID = system.systemID
        name = system.name
        source = "admin"
        enabled = system.enabled
        difyBaseURL = system.difyBaseURL?.absoluteString
        difyAPIKeyHint = system.difyKeyHint
        difyAPIKeyReadable = system.difyKey != .unreadable
        allowedOrigins = system.allowedOrigins
        rateLimitPerUser = system.rateLimitPerUser
        maxStreamsPerUser = system.maxStreamsPerUser
        budget = system.budgetFields
        openAIModel = system.openAIModel
        sourceLinks = system.sourceLinks.links
        inlineMath = system.inlineMath
        retentionDays = system.retentionDays
        retentionDeleteInDify = system.retentionDeleteInDify
        selfExport = system.selfExport
        createdAt = system.createdAt
        updatedAt = system.updatedAt
    }

    init(environmentSystem systemID: String, target: DifyTarget?, origins: [String], alsoDefinedByAdmin: Bool) {
        self.systemID = systemID
        name = systemID
        source = "environment"
        self.alsoDefinedByAdmin = alsoDefinedByAdmin ? true : nil
        enabled = true
        difyBaseURL = target?.baseURL.absoluteString
        difyAPIKeyHint = target.map { SecretSealer.hint($0.apiKey) }
        difyAPIKeyReadable = true
        allowedOrigins = origins
    }
}

/// The answer of `POST /admin/v1/systems/{id}/check`: whether a Dify app answered, and if not, why, coarsely.
struct DifyCheck: Content, Equatable {
    enum Reason: String, Codable, Sendable {
        case ok
        /// No URL or key, a key that cannot be read, or a URL whose address is refused.
        case notConfigured = "not_configured"
        case unreachable
        case timeout
        case http4xx = "http_4xx"
        case http5xx = "http_5xx"
        /// A 2xx answer that is not a Dify app's.
        case notDify = "not_dify"

        init(_ error: DifyError) {
            switch error {
            case .notConfigured, .keyUnreadable, .addressRefused: self = .notConfigured
            case .timeout: self = .timeout
            case .unreachable, .circuitOpen, .busy: self = .unreachable
            case .malformedResponse: self = .notDify
            case .upstream(let status, _, _): self = status < 500 ? .http4xx : .http5xx
            }
        }

        var detail: String {
            switch self {
            case .ok: "Dify answered"
            case .notConfigured: "Dify is not configured for this system, or its URL is not allowed"
            case .unreachable: "Dify could not be reached"
            case .timeout: "Dify did not answer in time"
            case .http4xx: "Dify refused the request (HTTP 4xx): check the key"
            case .http5xx: "Dify failed (HTTP 5xx)"
            case .notDify: "the URL answered, but not as a Dify app"
            }
        }
    }

    var ok: Bool
    /// 200 when Dify answered; otherwise null, never the upstream's own status.
    var status: Int?
    var reason: Reason
    var detail: String
    var latencyMS: Int

    init(ok: Bool, reason: Reason, latencyMS: Int) {
        self.ok = ok
        status = ok ? 200 : nil
        self.reason = reason
        detail = reason.detail
        self.latencyMS = latencyMS
    }

    enum CodingKeys: String, CodingKey { case ok, status, reason, detail, latencyMS = "latency_ms" }

    func encode(to encoder: any Encoder) throws {
        var fields = encoder.container(keyedBy: CodingKeys.self)
        try fields.encode(ok, forKey: .ok)
        try fields.encode(status, forKey: .status)
        try fields.encode(reason, forKey: .reason)
        try fields.encode(detail, forKey: .detail)
        try fields.encode(latencyMS, forKey: .latencyMS)
    }
}
