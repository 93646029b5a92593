import Foundation
import Vapor

/// Everything the route collections need, built once in `configure`.
struct GatewayRoutes: Sendable {
    let auth: GatewayAuthenticator
    let tokens: ChatTokenService
    let dify: any DifyClient
    let targets: DifyTargetResolver
    let streams: ChatStreamRegistry
    let settings: Settings
    /// Every chat's rows go through this one writer, so concurrent chats share commits.
    let writer: any RowWriter
    let sync: SyncCoordinator
    let now: @Sendable () -> Date
}

func registerRoutes(_ app: Application, routes: GatewayRoutes) throws {
    try app.register(collection: HealthController())
    try app.register(collection: APIDocsController())
    try app.register(collection: ChatPageController(
        auth: routes.auth, headers: PageSecurityHeaders(framingOrigins: routes.settings.allowedChatTokenOrigins), now: routes.now))
    try app.register(collection: PageAssetsController())

    let v1 = app.grouped("v1")
    try v1.register(collection: ChatController(
        auth: routes.auth, dify: routes.dify, targets: routes.targets,
        limits: .init(maxMessageCharacters: routes.settings.maxMessageCharacters),
        maxBodyBytes: routes.settings.maxRequestBytes, streams: routes.streams,
        admission: ChatAdmission(settings: routes.settings, streams: routes.streams, now: routes.now),
        keepAlive: routes.settings.streamKeepAlive, writer: routes.writer, now: routes.now))
    let access = DifyAccess(auth: routes.auth, dify: routes.dify, targets: routes.targets, writer: routes.writer, now: routes.now)
    try v1.register(collection: ChatStopController(access: access, streams: routes.streams))
    try v1.register(collection: ConversationsController(access: access))
    try v1.register(collection: ConversationControlsController(access: access))
    try v1.register(collection: MessageControlsController(access: access))
    let sessions = OperatorSessions(
        secret: routes.settings.jwtSecret, apiKeys: routes.settings.apiKeys, browserKeys: routes.settings.browserKeys, now: routes.now)
    try app.register(collection: HistoryPageController(sessions: sessions))
    let operators = OperatorAccess(auth: routes.auth, sessions: sessions)
    try v1.register(collection: SyncController(access: operators, coordinator: routes.sync))
    try v1.register(collection: CacheController(access: operators))
    try v1.register(collection: ChatTokenController(
        auth: routes.auth, tokens: routes.tokens, origins: OriginPolicy(allowedOrigins: routes.settings.allowedChatTokenOrigins)))
}
