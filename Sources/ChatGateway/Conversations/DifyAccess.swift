import Foundation

/// What every Dify-facing controller needs: who is asking, which Dify serves them, and the gateway's store.
struct DifyAccess: Sendable {
    let auth: GatewayAuthenticator
    let dify: any DifyClient
    let targets: DifyTargetResolver
    let store: ConversationStore

    func target(for caller: CallerIdentity) throws -> DifyTarget {
        try targets.target(forSystem: caller.systemID)
    }
}
