import Foundation
import SQLKit
import Vapor

/// `/admin/v1/webhooks`: endpoints as data, their deliveries, tests and replays. A secret is shown once, when it is
/// made; the database keeps it sealed.
struct WebhooksController: RouteCollection {
    let store: WebhookEndpointStore
    let urls: WebhookURLPolicy
    /// nil without `CHAT_GATEWAY_ENCRYPTION_KEY`: no endpoint can be made.
    let sealer: SecretSealer?
    /// Whether the gateway serves a system: an endpoint for one it does not is a mistake.
    let isKnownSystem: @Sendable (String) -> Bool
    /// Tells this process's dispatcher to look at the endpoints again.
    let endpointsChanged: @Sendable () -> Void
    let now: @Sendable () -> Date

    /// How long a rotated-out secret keeps signing.
    static let rotationOverlap: TimeInterval = 86_400

    func boot(routes: any RoutesBuilder) throws {
        let webhooks = routes.grouped("webhooks")
        webhooks.post(use: create)
        webhooks.get(use: list)
        let endpoint = webhooks.grouped(":endpoint_id")
        endpoint.get(use: show)
        endpoint.patch(use: update)
        endpoint.delete(use: delete)
        endpoint.post("rotate-secret", use: rotate)
        endpoint.post("test", use: test)
        endpoint.get("deliveries", use: deliveries)
        endpoint.post("deliveries", ":event_id", "replay", use: replayOne)
        endpoint.post("replay", use: replaySince)
    }

    struct EndpointInput: Content {
        var url: String?
        var systemID: String?
        var events: [String]?
        var includeContent: Bool?
        var description: String?
        var enabled: Bool?

        enum CodingKeys: String, CodingKey {
            case url, systemID = "system_id", events, includeContent = "include_content", description, enabled
        }
    }

    struct EndpointView: Content {
        var id: String
        var url: String
        var systemID: String?
        var events: [String]
        var includeContent: Bool
        var description: String
        var enabled: Bool
        var disabledReason: String?
        var failingSince: String?
        var previousSecretExpiresAt: String?
        var createdAt: String
        var updatedAt: String
        var stats: Stats?
        /// Only in the answers that make a secret.
        var secret: String?

        struct Stats: Content {
            var attempts24h: Int
            var succeeded24h: Int
            var successRate24h: Double?
            var pending: Int
            var failed: Int

            enum CodingKeys: String, CodingKey {
                case attempts24h = "attempts_24h", succeeded24h = "succeeded_24h", successRate24h = "success_rate_24h"
                case pending, failed
            }
        }

        enum CodingKeys: String, CodingKey {
            case id, url, systemID = "system_id", events, includeContent = "include_content", description, enabled
            case disabledReason = "disabled_reason", failingSince = "failing_since"
            case previousSecretExpiresAt = "previous_secret_expires_at", createdAt = "created_at"
            case updatedAt = "updated_at", stats, secret
        }

        init(_ row: WebhookEndpointRow, stats: WebhookEndpointStore.Stats?, at stamp: Date, secret: String? = nil) {
            id = row.id
            url = row.url
            systemID = row.systemID
            events = row.eventTypes.isEmpty ? ["*"] : row.eventTypes
            includeContent = row.includeContent
            description = row.description
            enabled = row.enabled
            disabledReason = row.disabledReason
            failingSince = row.failingSince.map { ISO8601.string(Date(timeIntervalSince1970: $0)) }
            previousSecretExpiresAt = row.previousSecretUntil.flatMap {
                $0 > stamp.timeIntervalSince1970 ? ISO8601.string(Date(timeIntervalSince1970: $0)) : nil
            }
            createdAt = ISO8601.string(Date(timeIntervalSince1970: row.createdAt))
            updatedAt = ISO8601.string(Date(timeIntervalSince1970: row.updatedAt))
            self.stats = stats.map {
                Stats(
                    attempts24h: $0.attempts, succeeded24h: $0.succeeded,
                    successRate24h: $0.attempts == 0 ? nil : Double($0.succeeded) / Double($0.attempts),
                    pending: $0.pending, failed: $0.failed)
            }
            self.secret = secret
        }

        /// Fields without a value are `null`, not left out; `secret` only where one was made.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(url, forKey: .url)
            try container.encode(systemID, forKey: .systemID)
            try container.encode(events, forKey: .events)
            try container.encode(includeContent, forKey: .includeContent)
            try container.encode(description, forKey: .description)
            try container.encode(enabled, forKey: .enabled)
            try container.encode(disabledReason, forKey: .disabledReason)
            try container.encode(failingSince, forKey: .failingSince)
            try container.encode(previousSecretExpiresAt, forKey: .previousSecretExpiresAt)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(updatedAt, forKey: .updatedAt)
            try container.encodeIfPresent(stats, forKey: .stats)
            try container.encodeIfPresent(secret, forKey: .secret)
        }
    }

    struct RotatedSecret: Content {
        var id: String
        var secret: String
        var previousSecretExpiresAt: String

        enum CodingKeys: String, CodingKey {
            case id, secret, previousSecretExpiresAt = "previous_secret_expires_at"
        }
    }

    struct SentEvent: Content {
        var eventID: String
        enum CodingKeys: String, CodingKey { case eventID = "event_id" }
    }

    struct Replayed: Content { var replayed: Int }

    struct ReplayInput: Content { var since: String }

    struct Attempts: Content { var data: [AttemptView] }

    struct AttemptView: Content {
        var id: String
        var eventID: String
        var eventType: String?
        var attempt: Int
        var attemptedAt: String
        var statusCode: Int?
        var latencyMS: Int
        var response: String
        var error: String?
        var succeeded: Bool
        var result: String
        var deliveryStatus: String?

        enum CodingKeys: String, CodingKey {
            case id, eventID = "event_id", eventType = "event_type", attempt, attemptedAt = "attempted_at"
            case statusCode = "status_code", latencyMS = "latency_ms", response, error, succeeded, result
            case deliveryStatus = "delivery_status"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(eventID, forKey: .eventID)
            try container.encode(eventType, forKey: .eventType)
            try container.encode(attempt, forKey: .attempt)
            try container.encode(attemptedAt, forKey: .attemptedAt)
            try container.encode(statusCode, forKey: .statusCode)
            try container.encode(latencyMS, forKey: .latencyMS)
            try container.encode(response, forKey: .response)
            try container.encode(error, forKey: .error)
            try container.encode(succeeded, forKey: .succeeded)
            try container.encode(result, forKey: .result)
            try container.encode(deliveryStatus, forKey: .deliveryStatus)
        }
    }

    @Sendable
    func create(_ req: Request) async throws -> Response {
        let input = try req.content.decode(EndpointInput.self)
        guard let sealer else { throw WebhookError.encryptionKeyMissing }
        guard let url = input.url else { throw WebhookError.urlRefused("is required") }
        try await urls.check(url)
        if let systemID = input.systemID {
            guard IdentityRules.isValidSystemID(systemID), isKnownSystem(systemID) else {
                throw WebhookError.invalid("system_id: no system \"\(systemID)\" is configured")
            }
        }
        let stamp = now()
        let secret = WebhookSignature.newSecret()
        var row = WebhookEndpointRow(
            id: WebhookEndpointRow.newID(at: stamp), url: url, systemID: input.systemID, events: "[]",
            includeContent: false, description: "", enabled: true, secretSealed: try sealer.seal(secret),
            createdAt: stamp.timeIntervalSince1970, updatedAt: stamp.timeIntervalSince1970)
        try apply(input, to: &row)
        try await store.insert(
            row,
            audit: audit(
                req, "webhook.created", row.id,
                "\(row.url) for \(row.systemID ?? "all systems"), events \(Self.eventsText(row))"
                    + (row.includeContent ? ", with content" : "")))
        endpointsChanged()
        let response = try await EndpointView(row, stats: .init(), at: stamp, secret: secret)
            .encodeResponse(status: .created, for: req)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    @Sendable
    func list(_ req: Request) async throws -> [EndpointView] {
        let stamp = now()
        let stats = try await dayStats(at: stamp)
        return try await store.all().map { EndpointView($0, stats: stats[$0.id] ?? .init(), at: stamp) }
    }

    @Sendable
    func show(_ req: Request) async throws -> EndpointView {
        let row = try await endpoint(req)
        let stamp = now()
        let stats = try await dayStats(at: stamp)
        return EndpointView(row, stats: stats[row.id] ?? .init(), at: stamp)
    }

    @Sendable
    func update(_ req: Request) async throws -> EndpointView {
        let current = try await endpoint(req)
        let input = try req.content.decode(EndpointInput.self)
        if let url = input.url, url != current.url { try await urls.check(url) }
        if let systemID = input.systemID, systemID != current.systemID {
            throw WebhookError.invalid("system_id cannot change: create another endpoint")
        }
        var changed = current
        try apply(input, to: &changed)
        let stamp = now()
        var columns: [(String, any SQLExpression)] = [("updated_at", SQLBind(stamp.timeIntervalSince1970))]
        if changed.url != current.url { columns.append(("url", SQLBind(changed.url))) }
        if changed.events != current.events { columns.append(("events", SQLBind(changed.events))) }
        if changed.includeContent != current.includeContent {
            columns.append(("include_content", SQLBind(changed.includeContent)))
        }
        if changed.description != current.description { columns.append(("description", SQLBind(changed.description))) }
        if let enabled = input.enabled {
            columns.append(("enabled", SQLBind(enabled)))
            columns.append(("disabled_reason", enabled ? SQLLiteral.null : SQLBind("disabled by an operator")))
            if enabled { columns.append(("failing_since", SQLLiteral.null)) }
        }
        guard
            let row = try await store.update(
                current.id, setting: columns,
                audit: audit(req, "webhook.updated", current.id, Self.changes(current, changed)))
        else { throw WebhookError.endpointNotFound }
        endpointsChanged()
        let stats = try await dayStats(at: stamp)
        return EndpointView(row, stats: stats[row.id] ?? .init(), at: stamp)
    }

    @Sendable
    func delete(_ req: Request) async throws -> HTTPStatus {
        let id = try req.parameters.require("endpoint_id")
        guard try await store.delete(id, audit: audit(req, "webhook.deleted", id, "deleted")) else {
            throw WebhookError.endpointNotFound
        }
        return .noContent
    }

    @Sendable
    func rotate(_ req: Request) async throws -> Response {
        guard let sealer else { throw WebhookError.encryptionKeyMissing }
        let id = try req.parameters.require("endpoint_id")
        let stamp = now()
        let secret = WebhookSignature.newSecret()
        let until = stamp.addingTimeInterval(Self.rotationOverlap)
        // One statement: the secret rotated out is the one stored at that moment.
        guard
            try await store.update(
                id,
                setting: [
                    ("previous_secret_sealed", SQLIdentifier("secret_sealed")),
                    ("secret_sealed", SQLBind(try sealer.seal(secret))),
                    ("previous_secret_until", SQLBind(until.timeIntervalSince1970)),
                    ("updated_at", SQLBind(stamp.timeIntervalSince1970)),
                ],
                audit: audit(
                    req, "webhook.secret_rotated", id, "the old secret signs too until \(ISO8601.wholeSeconds(until))")
            ) != nil
        else { throw WebhookError.endpointNotFound }
        let response = try await RotatedSecret(
            id: id, secret: secret, previousSecretExpiresAt: ISO8601.string(until)
        ).encodeResponse(for: req)
        response.headers.replaceOrAdd(name: .cacheControl, value: "no-store")
        return response
    }

    @Sendable
    func test(_ req: Request) async throws -> Response {
        let row = try await endpoint(req)
        guard row.enabled else { throw WebhookError.endpointDisabled }
        let stamp = now()
        let event = WebhookEvent(
            kind: .webhookTest, systemID: row.systemID,
            data: [
                "endpoint_id": .string(row.id),
                "message": .string("A test event from Chat Gateway, sent at an operator's request."),
            ],
            endpointID: row.id)
        guard
            let eventID = try await store.send(
                event, at: stamp, audit: audit(req, "webhook.tested", row.id, "webhook.test sent"))
        else { throw WebhookError.endpointNotFound }
        endpointsChanged()
        return try await SentEvent(eventID: eventID).encodeResponse(status: .accepted, for: req)
    }

    @Sendable
    func deliveries(_ req: Request) async throws -> Attempts {
        let row = try await endpoint(req)
        let limit = try req.query.get(Int?.self, at: "limit") ?? 50
        guard (1...500).contains(limit) else { throw WebhookError.invalid("limit must be 1 to 500") }
        let before = try req.query.get(String?.self, at: "before")
        let attempts = try await store.attempts(of: row.id, limit: limit, before: before)
        return Attempts(
            data: attempts.map { attempt in
                AttemptView(
                    id: attempt.id, eventID: attempt.eventID, eventType: attempt.eventType, attempt: attempt.attempt,
                    attemptedAt: ISO8601.string(Date(timeIntervalSince1970: attempt.attemptedAt)),
                    statusCode: attempt.statusCode, latencyMS: attempt.latencyMS, response: attempt.response,
                    error: attempt.error, succeeded: attempt.result == "success", result: attempt.result,
                    deliveryStatus: attempt.deliveryStatus)
            })
    }

    @Sendable
    func replayOne(_ req: Request) async throws -> Response {
        let row = try await endpoint(req)
        let eventID = try req.parameters.require("event_id")
        guard try await store.isDeliverable(eventID, to: row) else { throw WebhookError.deliveryNotFound }
        let replayed = try await store.replay(
            [eventID], to: row.id, at: now(), audit: audit(req, "webhook.replayed", row.id, "event \(eventID)"))
        guard replayed == 1 else { throw WebhookError.deliveryNotFound }
        endpointsChanged()
        return try await Replayed(replayed: replayed).encodeResponse(status: .accepted, for: req)
    }

    @Sendable
    func replaySince(_ req: Request) async throws -> Response {
        let row = try await endpoint(req)
        let text = try req.content.decode(ReplayInput.self).since
        guard
            let since = (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text))
                ?? (try? Date.ISO8601FormatStyle().parse(text))
        else { throw WebhookError.invalid("since must be a time such as 2026-12-01T00:00:00Z") }
        let events = try await store.events(for: row, since: since)
        let replayed = try await store.replay(
            events, to: row.id, at: now(),
            audit: audit(
                req, "webhook.replayed", row.id, "\(events.count) events since \(ISO8601.wholeSeconds(since))"))
        endpointsChanged()
        return try await Replayed(replayed: replayed).encodeResponse(status: .accepted, for: req)
    }

    /// The endpoints' figures over the 24 hours before `stamp`.
    private func dayStats(at stamp: Date) async throws -> [String: WebhookEndpointStore.Stats] {
        try await store.stats(since: stamp.addingTimeInterval(-86_400))
    }

    private func endpoint(_ req: Request) async throws -> WebhookEndpointRow {
        guard let row = try await store.find(try req.parameters.require("endpoint_id")) else {
            throw WebhookError.endpointNotFound
        }
        return row
    }

    private func apply(_ input: EndpointInput, to row: inout WebhookEndpointRow) throws {
        if let url = input.url { row.url = url }
        if let events = input.events {
            guard !events.isEmpty else {
                throw WebhookError.invalid("events must name at least one event type, or be [\"*\"] for all")
            }
            if events == ["*"] {
                row.events = "[]"
            } else {
                let known = Set(WebhookEvent.Kind.allCases.map(\.rawValue))
                for event in events where !known.contains(event) {
                    throw WebhookError.invalid(
                        "events: \"\(event)\" is not an event type (one of \(known.sorted().joined(separator: ", ")))")
                }
                row.events = AdminStore.text(ofList: Array(Set(events)).sorted())
            }
        }
        if let includeContent = input.includeContent { row.includeContent = includeContent }
        if let description = input.description {
            guard description.count <= 500 else { throw WebhookError.invalid("description is at most 500 characters") }
            row.description = description
        }
        if let enabled = input.enabled { row.enabled = enabled }
    }

    private func audit(_ req: Request, _ action: String, _ id: String, _ detail: String) -> AuditEntry {
        AuditEntry(at: now(), actor: req.adminActor, action: action, target: id, detail: detail)
    }

    private static func eventsText(_ row: WebhookEndpointRow) -> String {
        row.eventTypes.isEmpty ? "all" : row.eventTypes.joined(separator: ", ")
    }

    private static func changes(_ before: WebhookEndpointRow, _ after: WebhookEndpointRow) -> String {
        var changes: [String] = []
        if before.url != after.url { changes.append("url \(after.url)") }
        if before.events != after.events { changes.append("events \(eventsText(after))") }
        if before.includeContent != after.includeContent { changes.append("include_content \(after.includeContent)") }
        if before.description != after.description { changes.append("description") }
        if before.enabled != after.enabled { changes.append(after.enabled ? "enabled" : "disabled") }
        return changes.isEmpty ? "no change" : changes.joined(separator: ", ")
    }
}
