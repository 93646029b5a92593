import AsyncHTTPClient
import Fluent
import FluentPostgresDriver
import FluentSQLiteDriver
import SQLKit
import Vapor

/// The one composition root: the app, its database, its Dify client and its routes.
/// `chat-gateway` and the tests call this same function with their own settings and collaborators.
public func configure(_ app: Application, settings: Settings, dependencies: GatewayDependencies = .init()) async throws
{
    app.http.server.configuration.hostname = settings.host
    app.http.server.configuration.port = settings.port
    // Closes connections silent for this long: one that sends nothing, or half a request head, is not kept open.
    // Streams stay open through their keep-alives.
    app.http.server.configuration.idleTimeout = .milliseconds(settings.requestHeadTimeout.milliseconds)
    app.routes.defaultMaxBodySize = ByteCount(value: settings.maxRequestBytes)
    // AsyncHTTPClient keeps only 8 connections per host by default, which would queue a busy gateway behind Dify.
    app.http.client.configuration.connectionPool = .init(
        idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: settings.difyMaxConnections)
    // The client retries refused connections with back-off until this passes: a dead Dify is a 502 within
    // seconds instead of holding every request for the whole DIFY_TIMEOUT.
    app.http.client.configuration.timeout.connect = .seconds(3)
    // A redirect would take a request, with its Dify key, to a host no one checked.
    app.http.client.configuration.redirectConfiguration = .disallow
    // The client's own spans would record Dify's query strings (`user=`, which for a visitor is a credential);
    // `InstrumentedDifyClient` makes the Dify spans instead.
    app.http.client.configuration.tracing.tracer = nil
    // Async handlers run with the request's span as the current one, so their Dify and database spans nest under it.
    app.traceAutoPropagation = true

    try configureDatabase(app, settings)
    let database: @Sendable () -> any Database = GatewayDatabaseSource(app, logSQL: settings.logSQL).callAsFunction
    let sqlDatabase: @Sendable () -> any SQLDatabase = { database() as! any SQLDatabase }
    let reportsID: DatabaseID? = settings.isPostgres ? nil : ReportDatabase.sqliteID
    let reports = ReportDatabase(
        database: GatewayDatabaseSource(app, id: reportsID, logSQL: settings.logSQL).callAsFunction,
        isSQLite: !settings.isPostgres)
    let reportGate = ConcurrencyGate.reports()
    GatewayMigrations.register(on: app.migrations)

    let environmentTargets = try await difyTargets(app, settings: settings)
    let uploads = ConcurrencyGate.uploads()
    let adminStore = AdminStore(database: database)
    let registry = GatewayRegistry(
        store: adminStore, sealer: settings.encryptionKey.map { SecretSealer(encryptionKey: $0) },
        environmentSystemIDs: Set(environmentTargets.overriddenSystemIDs), now: dependencies.now, logger: app.logger)
    app.lifecycle.use(RegistryPolling(registry: registry))
    let targets = environmentTargets.reading(registry)
    let knownSystems = KnownSystems(
        settings: settings, environmentSystemIDs: environmentTargets.overriddenSystemIDs, registry: registry)
    let metrics = GatewayMetrics(isKnownSystem: knownSystems.contains)
    let directDify =
        dependencies.dify
        ?? HTTPDifyClient(
            http: app.http.client.shared, streamingHTTP: streamingClient(app, settings: settings),
            uploadHTTP: uploadClient(app, settings: settings, uploads: uploads), timeout: settings.difyTimeout,
            allowedNetworks: settings.difyAllowedNetworks)
    // Chats, controls and the sync share the breakers: a dead Dify is a quick 503 for all of them.
    let breaking =
        settings.difyCircuitFailures == 0
        ? nil
        : CircuitBreakingDifyClient(
            directDify, failures: settings.difyCircuitFailures, cooldown: settings.difyCircuitCooldown,
            now: dependencies.now, logger: app.logger)
    let dify = InstrumentedDifyClient(upstream: breaking ?? directDify, metrics: metrics)
    let retentionPolicy = RetentionPolicy(systemPolicy: registry.systemInForce, defaultDays: settings.retentionDays)
    let erasureGate = ErasureGate(pseudonyms: Pseudonyms(secret: settings.jwtSecret))
    let makeSync: @Sendable (Application) -> HistorySync = { app in
        HistorySync(
            dify: dify, targets: targets, database: database(), now: dependencies.now,
            concurrency: settings.syncConcurrency, logger: app.logger, retention: retentionPolicy,
            isErasing: erasureGate.isErasing)
    }
    let syncCoordinator = SyncCoordinator(
        sync: makeSync(app),
        lease: Lease(
            name: "history-sync", holder: Lease.processHolder(), database: database,
            now: dependencies.now),
        metrics: metrics, now: dependencies.now)
    if let interval = settings.syncInterval {
        app.lifecycle.use(SyncSchedule(coordinator: syncCoordinator, interval: interval))
    }
    let streams = ChatStreamRegistry()
    let shutdown = ShutdownState()
    app.gracefulShutdown = GracefulShutdown(
        state: shutdown, streams: streams, readyGrace: settings.shutdownGraceReady, grace: settings.shutdownGrace)
    let tokens = await ChatTokenService(settings: settings, now: dependencies.now)
    let budgets = BudgetsInForce(perUser: settings.budgetPerUser, registry: registry)
    let store = ConversationStore(
        database: database(), concurrentWrites: settings.concurrentWriteTransactions,
        sharedByReplicas: settings.isPostgres, now: dependencies.now, metrics: metrics,
        usageThresholds: UsageThresholds(budgets: budgets, now: dependencies.now))
    let makeRetention: @Sendable (Application) -> Retention = { app in
        Retention(
            store: store, database: sqlDatabase, policy: retentionPolicy, dify: dify, targets: targets,
            now: dependencies.now, logger: app.logger, metrics: metrics)
    }
    GatewayCommands.register(
        on: app, settings: settings, now: dependencies.now, makeSync: makeSync, makeRetention: makeRetention,
        registry: registry)
    if let interval = settings.retentionInterval {
        app.lifecycle.use(
            RetentionSchedule(
                retention: makeRetention(app),
                lease: Lease(
                    name: "retention", holder: Lease.processHolder(), database: database, now: dependencies.now),
                interval: interval))
    }
    let auth = GatewayAuthenticator(
        apiKeys: APIKeyVerifier(entries: settings.apiKeys), tokens: tokens, allowedSystemIDs: settings.allowedSystemIDs,
        browserKeys: APIKeyVerifier(entries: settings.browserKeys), registry: registry)
    let holder = Lease.processHolder()
    let webhookSealer = settings.encryptionKey.map {
        SecretSealer(encryptionKey: $0, label: SecretSealer.webhookSecretsLabel)
    }
    let webhookURLs = WebhookURLPolicy(allowedNetworks: settings.webhookAllowedNetworks)
    let webhookDispatcher = WebhookDispatcher(
        queue: WebhookQueue(store: store, database: database, isPostgres: settings.isPostgres, now: dependencies.now),
        sender: webhookSender(app, urls: webhookURLs), sealer: webhookSealer,
        configuration: .init(schedule: settings.webhookRetrySchedule, holder: holder), metrics: metrics,
        logger: app.logger)
    app.lifecycle.use(webhookDispatcher)
    let chats = ChatService(
        dify: dify, targets: targets, store: store, streams: streams, metrics: metrics,
        budgets: BudgetGuard(budgets: budgets, database: sqlDatabase, store: store, now: dependencies.now),
        limits: .init(maxMessageCharacters: settings.maxMessageCharacters, streamKeepAlive: settings.streamKeepAlive),
        holder: holder)
    let turnEvents = TurnEventStore(database: database)
    let readers = TurnReaders(registry: streams, store: turnEvents)
    app.lifecycle.use(
        TurnJournal(
            registry: streams, store: store,
            lease: Lease(
                name: TurnJournal.leaseName(holder), holder: holder, database: database, now: dependencies.now,
                duration: Double(settings.turnLease.components.seconds)),
            every: settings.isPostgres ? .milliseconds(200) : .seconds(1), logger: app.logger))
    app.lifecycle.use(
        TurnRecovery(
            database: database, store: store, turns: turnEvents, dify: dify, targets: targets, holder: holder,
            runningHere: { streams.turn($0) != nil }, now: dependencies.now,
            bound: max(settings.difyTimeout, settings.difyStreamIdleTimeout), interval: settings.turnLease,
            logger: app.logger))
    let signingKey = OperatorSigningKey(
        settings.encryptionKey.map { .encryptionKey($0) } ?? .database(GatewaySecrets(database: database)))
    let sessions = OperatorSessions(
        signingKey: signingKey, store: OperatorSessionStore(database: database),
        keys: HistoryPageKeys(apiKeys: settings.apiKeys, browserKeys: settings.browserKeys), now: dependencies.now)
    let adminGuard = AdminGuard(
        settings: settings, store: adminStore,
        sessions: OperatorSessions(
            cookieName: "cg_admin", signingKey: signingKey, store: OperatorSessionStore(database: database),
            keys: AdminSessionKeys(adminKeys: settings.adminKeys), now: dependencies.now),
        now: dependencies.now)

    app.middleware = Middlewares()
    app.middleware.use(RequestObservationMiddleware(metrics: metrics))
    app.middleware.use(AccessLogMiddleware())
    app.middleware.use(
        RequestHeadLimitMiddleware(
            maxHeaderBytes: settings.maxHeaderBytes, maxBodyBytes: settings.maxRequestBytes,
            maxUploadBytes: settings.maxUploadBytes))
    app.middleware.use(GatewayCORSMiddleware(settings, registry: registry))
    app.middleware.use(APIErrorMiddleware())

    try app.register(
        collection: HealthController(migrationNames: GatewayMigrations.all.map(\.name), shutdown: shutdown))
    try app.register(
        collection: MetricsController(
            metrics: metrics, key: settings.metricsKey.map { APIKeyVerifier(keys: [$0]) }, streams: streams,
            openCircuits: {
                guard let breaking else { return [:] }
                var open: [String: Bool] = [:]
                for systemID in knownSystems.all {
                    guard let target = try? targets.target(forSystem: systemID) else { continue }
                    open[systemID] = await breaking.isOpen(at: target)
                }
                return open
            }))
    try app.register(collection: APIDocsController())
    try app.register(
        collection: ChatPageController(
            auth: auth, headers: PageSecurityHeaders(framingOrigins: settings.allowedChatTokenOrigins), store: store))
    try app.register(collection: PageAssetsController())
    try app.register(collection: HistoryPageController(sessions: sessions))
    try app.register(
        collection: AdminPageController(flow: SessionPageFlow(sessions: adminGuard.sessions), adminGuard: adminGuard))

    // On PostgreSQL the replicas count the rate limits together, in the database.
    let sharedBuckets = settings.isPostgres ? sqlDatabase : nil
    let turns = ChatTurns(
        admission: ChatAdmission(
            settings: settings, streams: StreamSlots(), registry: registry, shutdown: shutdown, metrics: metrics,
            sharedBuckets: sharedBuckets, erasures: erasureGate, now: dependencies.now),
        chats: chats, metrics: metrics, readers: readers, idempotencyWait: settings.idempotencyWait,
        idempotencyTTL: settings.idempotencyTTL, now: dependencies.now)
    let parameters = AppParameters(dify: dify, maxUploadBytes: settings.maxUploadBytes, now: dependencies.now)
    let pages = PageSettings(registry: registry, environment: settings.pageSettings)
    let v1 = app.grouped("v1")
    let access = DifyAccess(auth: auth, dify: dify, targets: targets, store: store)
    let stopper = ChatStopper(access: access, streams: streams)
    let erasures = Erasures(
        erasure: UserErasure(
            store: store, erasures: ErasureStore(store: store, database: sqlDatabase), dify: dify, targets: targets,
            audit: adminStore, database: sqlDatabase, isPostgres: settings.isPostgres,
            stopStreams: { caller in await stopper.stopAll(of: caller) }, retry: RetryPolicy(), now: dependencies.now,
            logger: app.logger, metrics: metrics),
        gate: erasureGate, holder: holder, poll: settings.isPostgres ? .seconds(1) : nil)
    app.lifecycle.use(erasures)
    try v1.register(collection: ChatStopController(stopper: stopper))
    try v1.register(
        collection: TurnsController(
            auth: auth, readers: readers, keepAlive: settings.streamKeepAlive, pages: pages))
    try v1.register(
        collection: ConversationsController(
            access: access, turns: readers, pages: pages))
    try v1.register(collection: ConversationControlsController(access: access))
    try v1.register(collection: MessageControlsController(access: access))
    let features = AppFeatures(
        access: access, parameters: parameters, pages: pages,
        mediaLimit: settings.rateLimitMedia.map { RateLimiter(limit: $0, now: dependencies.now) }, uploads: uploads,
        maxVoiceBytes: settings.maxVoiceBytes, now: dependencies.now)
    try v1.register(
        collection: ChatController(
            auth: auth, turns: turns, features: features, maxBodyBytes: settings.maxRequestBytes))
    try v1.register(collection: ParametersController(features: features))
    try v1.register(collection: FileUploadController(features: features))
    try v1.register(collection: VoiceController(features: features, maxBodyBytes: settings.maxRequestBytes))
    let operators = OperatorAccess(auth: auth, sessions: sessions)
    try v1.register(collection: SyncController(access: operators, coordinator: syncCoordinator))
    try v1.register(
        collection: CacheController(
            access: operators, database: database, reports: reports, gate: reportGate, pages: pages))
    try v1.register(
        collection: UsageController(
            access: operators, adminGuard: adminGuard, reports: reports, gate: reportGate, now: dependencies.now))
    try v1.register(
        collection: ChatTokenController(
            auth: auth, tokens: tokens, origins: OriginPolicy(allowedOrigins: settings.allowedChatTokenOrigins),
            issuance: TokenIssuanceLimit(settings: settings, now: dependencies.now)))

    try app.grouped("dify", "v1").register(
        collection: DifyAPIController(
            access: access, turns: turns, stopper: stopper, maxBodyBytes: settings.maxRequestBytes,
            maxUploadBytes: settings.maxUploadBytes, uploads: uploads, now: dependencies.now))

    try app.grouped("openai", "v1").register(
        collection: OpenAIController(
            auth: auth,
            models: OpenAIModels(
                systems: knownSystems, targets: targets, registry: registry,
                environmentNames: settings.openAIModelNames, allowedSystemIDs: settings.allowedSystemIDs),
            turns: turns,
            conversations: OpenAIConversations(database: sqlDatabase, store: store, now: dependencies.now),
            endUsers: await OpenAIEndUser(openWebUISecret: settings.openWebUIUserJWTSecret, now: dependencies.now),
            parameters: parameters, images: OpenAIImages(dify: dify),
            targets: targets,
            maxBodyBytes: RequestHeadLimitMiddleware.openAIChatLimit(
                maxBodyBytes: settings.maxRequestBytes, maxUploadBytes: settings.maxUploadBytes),
            now: dependencies.now))

    let admin = app.grouped("admin", "v1").grouped(adminGuard)
    try admin.register(
        collection: AdminSystemsController(
            registry: registry,
            environment: EnvironmentSystems(
                environmentTargets: environmentTargets, targets: targets, allowedSystemIDs: settings.allowedSystemIDs,
                origins: settings.allowedChatTokenOrigins, registry: registry),
            dify: dify, addresses: DifyAddressPolicy(allowedNetworks: settings.difyAllowedNetworks),
            now: dependencies.now))
    try admin.register(collection: AdminKeysController(registry: registry, settings: settings, now: dependencies.now))
    try admin.register(collection: AdminAuditController(store: adminStore))
    try admin.register(
        collection: WebhooksController(
            store: WebhookEndpointStore(admin: adminStore), urls: webhookURLs, sealer: webhookSealer,
            isKnownSystem: { knownSystems.serves($0, targets: targets) },
            endpointsChanged: webhookDispatcher.endpointsChanged,
            now: dependencies.now))

    try app.register(
        collection: PersonalDataController(
            erasures: erasures, export: UserExport(database: sqlDatabase, now: dependencies.now),
            adminGuard: adminGuard, auth: auth, adminStore: adminStore, pages: pages,
            isKnownSystem: knownSystems.contains, database: sqlDatabase, now: dependencies.now))

    KeyScopeLog(settings: settings).write(to: app.logger)
    if settings.jwtSecretIsEphemeral {
        app.logger.warning(
            "CHAT_GATEWAY_JWT_SECRET is not set: using a secret generated for this process; chat links stop working when it exits"
        )
        app.lifecycle.use(DevLinkPrinter(settings: settings, tokens: tokens))
    }
}

/// Statements carry bound values (message texts, visitor ids, which are credentials): they are logged only with
/// `LOG_SQL=true`.
private func configureDatabase(_ app: Application, _ settings: Settings) throws {
    switch settings.database {
    case .sqlite(let path):
        // A statement waiting for the file's write lock keeps its blocking thread until the lock is free (SQLiteNIO's
        // busy handler retries without end). With a thread for every connection that can wait (the gateway's, the
        // reports', an import's source) and one more, the connection holding the lock, file reads and any other
        // database in the process still get a thread; sharing the process-wide pool of one per core, they did not.
        let loops = app.eventLoopGroup.makeIterator().reduce(0) { count, _ in count + 1 }
        app.threadPool = NIOThreadPool(numberOfThreads: 3 * loops + 1)
        precondition(app.databases.threadPool === app.threadPool, "the databases were made before their thread pool")
        app.databases.use(.sqlite(.file(path), sqlLogLevel: settings.logSQL ? .debug : nil), as: .sqlite)
        app.databases.use(
            .sqlite(.file(path), maxConnectionsPerEventLoop: 1, sqlLogLevel: settings.logSQL ? .debug : nil),
            as: ReportDatabase.sqliteID, isDefault: false)
    case .postgres(let url):
        // Replicas share the server, so the pool is per process: DATABASE_POOL_SIZE connections per event loop.
        app.databases.use(
            try .postgres(
                url: url, maxConnectionsPerEventLoop: settings.databasePoolSize, connectionPoolTimeout: .seconds(10),
                sqlLogLevel: settings.logSQL ? .debug : .trace),
            as: .psql)
    }
}

/// Shared `DIFY_*` settings, or the in-process fake when no Dify is configured (first run, demos).
private func difyTargets(_ app: Application, settings: Settings) async throws -> DifyTargetResolver {
    guard settings.usesDemoUpstream else {
        return DifyTargetResolver(
            sharedBaseURL: settings.difyBaseURL, sharedAPIKey: settings.difyAPIKey,
            overrides: settings.difySystemOverrides)
    }
    let demo = try await DemoUpstream.start(app)
    app.logger.warning(
        "DIFY_BASE_URL is not set: answers come from the built-in fake Dify (a demo upstream, not a real model)")
    return DifyTargetResolver(sharedBaseURL: demo.baseURL, sharedAPIKey: demo.apiKey)
}

/// Streams get their own client whose read timeout is the longest silence allowed between events.
private func streamingClient(_ app: Application, settings: Settings) -> HTTPClient {
    var configuration = app.http.client.configuration
    configuration.timeout.read = .init(settings.difyStreamIdleTimeout)
    let client = HTTPClient(eventLoopGroupProvider: .shared(app.eventLoopGroup), configuration: configuration)
    app.lifecycle.use(ClientShutdown(client: client))
    return client
}

/// Uploads get their own client, with as many connections per host as uploads may run: slow senders take none of the
/// streams' connections.
private func uploadClient(_ app: Application, settings: Settings, uploads: ConcurrencyGate) -> HTTPClient {
    var configuration = app.http.client.configuration
    configuration.timeout.read = .init(settings.difyStreamIdleTimeout)
    configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = uploads.maxInAll
    let client = HTTPClient(eventLoopGroupProvider: .shared(app.eventLoopGroup), configuration: configuration)
    app.lifecycle.use(ClientShutdown(client: client))
    return client
}

/// Webhooks get their own client: endpoints are the operators' choice, never Dify, and a slow one must not take
/// Dify's connections.
private func webhookSender(_ app: Application, urls: WebhookURLPolicy) -> WebhookSender {
    let configuration = WebhookSender.clientConfiguration(timeout: WebhookSender.attemptTimeout)
    let client = HTTPClient(eventLoopGroupProvider: .shared(app.eventLoopGroup), configuration: configuration)
    app.lifecycle.use(ClientShutdown(client: client))
    return WebhookSender(http: client, configuration: configuration, eventLoopGroup: app.eventLoopGroup, urls: urls)
}

private struct ClientShutdown: LifecycleHandler {
    let client: HTTPClient
    func shutdownAsync(_ application: Application) async {
        try? await client.shutdown()
    }
}

/// Vapor's CORS, plus `Vary: Origin` on every answer it touched: the allowed origin echoed back depends on the
/// request's `Origin`, so a shared cache must not hand one site's answer to another.
/// A request naming (in its query) a system defined through the admin API with origins of its own gets those.
private struct GatewayCORSMiddleware: Middleware {
    let cors: CORSMiddleware
    let registry: GatewayRegistry

    init(_ settings: Settings, registry: GatewayRegistry) {
        cors = Self.cors(settings.allowedChatTokenOrigins)
        self.registry = registry
    }

    static func cors(_ origins: [String]) -> CORSMiddleware {
        CORSMiddleware(
            configuration: .init(
                allowedOrigin: origins.isEmpty ? .all : .any(origins),
                allowedMethods: [.GET, .POST, .DELETE, .OPTIONS],
                allowedHeaders: [.accept, .authorization, .contentType, .origin, "X-API-Key"]))
    }

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let systemCORS = (try? request.query.get(String.self, at: "system_id"))
            .flatMap { registry.allowedOrigins(of: $0) }.map(Self.cors)
        return (systemCORS ?? cors).respond(to: request, chainingTo: next).map { response in
            let varies = response.headers[.vary].contains { $0.lowercased().contains("origin") }
            if request.headers.first(name: .origin) != nil, !varies {
                response.headers.add(name: .vary, value: "Origin")
            }
            return response
        }
    }
}
