import AsyncHTTPClient
import Foundation
import NIOConcurrencyHelpers
import NIOCore

@testable import ChatGateway

/// A live Dify client (to the harness's fake Dify over loopback) that can be told to fail some calls first:
/// how the sync's retry and per-user isolation are exercised without touching the fake's chat faults.
final class FlakyDify: DifyClient, @unchecked Sendable {
    let live: any DifyClient
    /// Dify users whose conversation listing always fails with this error.
    let alwaysFailing: [String: DifyError]
    /// Dify users whose first N listing calls fail with 429.
    private let rateLimited = NIOLockedValueBox<[String: Int]>([:])
    private let listingCalls = NIOLockedValueBox(0)

    init(live: any DifyClient, alwaysFailing: [String: DifyError] = [:], rateLimitedFirst: [String: Int] = [:]) {
        self.live = live
        self.alwaysFailing = alwaysFailing
        rateLimited.withLockedValue { $0 = rateLimitedFirst }
    }

    var conversationListings: Int { listingCalls.withLockedValue { $0 } }

    func forward(_ request: DifyPassthroughRequest, to target: DifyTarget) async throws -> DifyPassthroughResponse {
        if request.method == .GET, request.endpoint == "conversations",
            let user = request.query.first(where: { $0.name == "user" })?.value
        {
            try failListing(of: user)
        }
        return try await live.forward(request, to: target)
    }

    func streamMessage(_ request: DifyChatRequest, to target: DifyTarget) async throws -> DifyEventStream {
        try await live.streamMessage(request, to: target)
    }

    /// Counts a conversation listing and fails it when `user` is told to.
    private func failListing(of user: String) throws {
        listingCalls.withLockedValue { $0 += 1 }
        if let error = alwaysFailing[user] { throw error }
        let limited = rateLimited.withLockedValue { remaining -> Bool in
            guard let left = remaining[user], left > 0 else { return false }
            remaining[user] = left - 1
            return true
        }
        if limited { throw DifyError.upstream(status: 429, code: "too_many_requests", message: "rate limited") }
    }
}

extension GatewayHarness {
    var target: DifyTarget { DifyTarget(baseURL: URL(string: fake.baseURL)!, apiKey: Self.difyKey) }
    var liveDify: any DifyClient { HTTPDifyClient(http: HTTPClient.shared, timeout: .seconds(30)) }

    /// A sync over the harness's fake Dify, with small pages so pagination is exercised, and no real back-off.
    func historySync(
        dify: (any DifyClient)? = nil, pageSize: Int = 7, delays: NIOLockedValueBox<[Duration]>? = nil
    ) -> HistorySync {
        var sync = HistorySync(
            dify: dify ?? liveDify,
            targets: DifyTargetResolver(sharedBaseURL: URL(string: fake.baseURL), sharedAPIKey: Self.difyKey),
            database: app.db, now: Date.init, logger: app.logger)
        sync.pageSize = pageSize
        sync.retry.sleep = { delay in delays?.withLockedValue { $0.append(delay) } }
        return sync
    }

    func lease(holder: String) -> Lease {
        Lease(name: "history-sync", holder: holder, database: { [app] in app.db }, now: Date.init)
    }

    /// `count` drillquiz users named `<prefix><n>`, each with conversations in the fake Dify and known to the sync.
    func seedKnownUsers(_ count: Int, prefix: String, conversations: Int, turns: Int) async throws {
        for index in 0..<count {
            await fake.store.seed(user: "drillquiz_\(prefix)\(index)", conversations: conversations, turnsEach: turns)
            try await register("drillquiz", "\(prefix)\(index)")
        }
    }

    /// Registers (system, user) as the chat page does, so the sync knows them.
    func register(_ system: String, _ user: String) async throws {
        try await ConversationStore(database: app.db, now: Date.init).registerUser(
            CallerIdentity(systemID: system, userID: user))
    }
}
