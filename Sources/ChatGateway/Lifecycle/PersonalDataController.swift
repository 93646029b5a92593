import Foundation
import SQLKit
import Vapor

/// Personal data: a user's erasure and export (for admins and for a server key scoped to the user's system), the
/// erasures' receipts, conversations' legal holds (admins), and the signed-in user's own export on the chat page.
struct PersonalDataController: RouteCollection {
    let erasures: Erasures
    let export: UserExport
    let adminGuard: AdminGuard
    let auth: GatewayAuthenticator
    let adminStore: AdminStore
    let pages: PageSettings
    let isKnownSystem: @Sendable (String) -> Bool
    let database: @Sendable () -> any SQLDatabase
    let now: @Sendable () -> Date

    func boot(routes: any RoutesBuilder) throws {
        let admin = routes.grouped("admin", "v1")
        let user = admin.grouped("systems", ":system_id", "users", ":user_id")
        user.post("erasure", use: erase)
        user.get("export", use: exportUser)
        admin.get("erasures", ":erasure_id", use: receipt)
        let guarded = admin.grouped(adminGuard)
        guarded.get("erasures", use: list)
        let hold = guarded.grouped("conversations", ":conversation_id", "legal-hold")
        hold.get(use: legalHold)
        hold.put(use: placeHold)
        hold.delete(use: releaseHold)
        routes.grouped("v1", "me").get("export", use: exportSelf)
    }

    /// Who may act: an admin (any system), or a server key whose scope holds `systemID` (nil: the key's scope).
    private struct Actor {
        var name: String
        var scope: KeyScope
    }

    private func actor(_ req: Request) async throws -> Actor {
        let holdsAdminCredential =
            req.headers.first(name: "X-Admin-Key") != nil || req.headers.first(name: "X-API-Key") == nil
        if holdsAdminCredential { return Actor(name: try await adminGuard.authorize(req), scope: .allSystems) }
        guard case .apiKey(let scope, let keyID) = try auth.keyCredential(req) else { throw AuthError.chatTokenOnlyKey }
        return Actor(name: "key:\(keyID)", scope: scope)
    }

    /// The path's system and user, checked, with the actor allowed to act for them.
    private func subject(_ req: Request) async throws -> (actor: Actor, systemID: String, userID: String) {
        let actor = try await actor(req)
        let systemID = try req.parameters.require("system_id")
        let userID = try IdentityRules.validate(systemID: systemID, userID: try req.parameters.require("user_id"))
        guard actor.scope.permits(systemID) else { throw AuthError.outsideKeyScope(actor.scope) }
        guard try await isKnown(systemID) else { throw LifecycleError.unknownSystem(systemID) }
        return (actor, systemID, userID)
    }

    /// A system the gateway serves, or one whose users it still holds data of.
    private func isKnown(_ systemID: String) async throws -> Bool {
        if isKnownSystem(systemID) { return true }
        return try await database().select().column("system_id").from(ChatUser.schema)
            .where("system_id", .equal, SQLBind(systemID)).limit(1).first() != nil
    }

    private func erase(_ req: Request) async throws -> Response {
        let (actor, systemID, userID) = try await subject(req)
        let (receipt, _) = try await erasures.request(systemID: systemID, userID: userID, requestedBy: actor.name)
        let response = try await receipt.encodeResponse(status: .accepted, for: req)
        response.headers.replaceOrAdd(name: .location, value: "/admin/v1/erasures/\(receipt.id)")
        return response
    }

    private func receipt(_ req: Request) async throws -> ErasureReceipt {
        let actor = try await actor(req)
        guard let receipt = try await erasures.erasure.erasures.receipt(id: try req.parameters.require("erasure_id")),
            actor.scope.permits(receipt.systemID)
        else { throw LifecycleError.erasureNotFound }
        return receipt
    }

    struct ErasureList: Content { var data: [ErasureReceipt] }

    private func list(_ req: Request) async throws -> ErasureList {
        let limit = min(max(req.query[Int.self, at: "limit"] ?? 50, 1), 200)
        return ErasureList(
            data: try await erasures.erasure.erasures.list(
                systemID: req.query[String.self, at: "system_id"], limit: limit))
    }

    private func exportUser(_ req: Request) async throws -> Response {
        let (_, systemID, userID) = try await subject(req)
        return export.response(systemID: systemID, userID: userID, format: try Self.format(req))
    }

    private func exportSelf(_ req: Request) async throws -> Response {
        let credential = try await auth.credential(for: req)
        guard case .token = credential else { throw LifecycleError.chatTokenRequired }
        let caller = try auth.identity(credential, systemID: nil, userID: nil)
        guard pages.selfExport(of: caller.systemID) else { throw LifecycleError.selfExportOff }
        return export.response(systemID: caller.systemID, userID: caller.userID, format: try Self.format(req))
    }

    private static func format(_ req: Request) throws -> UserExport.Format {
        let raw = req.query[String.self, at: "format"] ?? "json"
        guard let format = UserExport.Format(rawValue: raw) else {
            throw LifecycleError.invalid("format must be json or jsonl")
        }
        return format
    }

    // MARK: Legal hold

    struct LegalHold: Content {
        var conversationID: String
        var legalHold: Bool
        var reason: String?
        var heldAt: String?

        enum CodingKeys: String, CodingKey {
            case conversationID = "conversation_id", legalHold = "legal_hold", reason, heldAt = "held_at"
        }
    }

    struct HoldInput: Content { var reason: String? }

    private func legalHold(_ req: Request) async throws -> LegalHold {
        try await hold(of: try req.parameters.require("conversation_id"))
    }

    private func hold(of conversationID: String) async throws -> LegalHold {
        guard
            let row = try await database().select().columns("legal_hold_at", "legal_hold_reason")
                .from(StoredConversation.schema).where("conversation_id", .equal, SQLBind(conversationID)).first()
        else { throw LifecycleError.conversationNotFound }
        let heldAt = try row.decode(column: "legal_hold_at", as: Double?.self)
        return LegalHold(
            conversationID: conversationID, legalHold: heldAt != nil,
            reason: try row.decode(column: "legal_hold_reason", as: String?.self),
            heldAt: heldAt.map { ISO8601.string(Date(timeIntervalSince1970: $0)) })
    }

    private func placeHold(_ req: Request) async throws -> LegalHold {
        let conversationID = try req.parameters.require("conversation_id")
        let reason = req.body.data == nil ? nil : try req.content.decode(HoldInput.self).reason
        if let reason, reason.count > 500 {
            throw LifecycleError.invalid("reason is too long (at most 500 characters)")
        }
        try await setHold(req, conversationID, at: now(), reason: reason)
        return try await hold(of: conversationID)
    }

    private func releaseHold(_ req: Request) async throws -> LegalHold {
        let conversationID = try req.parameters.require("conversation_id")
        try await setHold(req, conversationID, at: nil, reason: nil)
        return try await hold(of: conversationID)
    }

    private func setHold(_ req: Request, _ conversationID: String, at stamp: Date?, reason: String?) async throws {
        let audit = AuditEntry(
            at: now(), actor: req.adminActor,
            action: stamp == nil ? "conversation.legal_hold_released" : "conversation.legal_hold",
            target: conversationID,
            detail: stamp == nil ? "released" : (reason.map { "reason: \($0)" } ?? "no reason given"))
        try await adminStore.change(audit) { sql in
            let found = try await sql.update(StoredConversation.schema)
                .set("legal_hold_at", to: SQLBind(stamp?.timeIntervalSince1970))
                .set("legal_hold_reason", to: SQLBind(reason))
                .where("conversation_id", .equal, SQLBind(conversationID)).returning("conversation_id").all()
            guard !found.isEmpty else { throw LifecycleError.conversationNotFound }
        }
    }
}
