import NIOConcurrencyHelpers

/// The `Idempotency-Key`s this process's requests are claiming now: a request refused by a limit that one of them
/// holds (the user's one stream slot, say) waits for that claim, then answers from its turn.
final class IdempotencyClaims: Sendable {
    private let claiming = NIOLockedValueBox<[String: [CheckedContinuation<Void, Never>]]>([:])

    /// Marks the key as being claimed; false when another request of this process is claiming it.
    func begin(_ keyHash: String) -> Bool {
        claiming.withLockedValue { claiming in
            guard claiming[keyHash] == nil else { return false }
            claiming[keyHash] = []
            return true
        }
    }

    /// The claim is done (made, or refused): whoever waits for it goes on.
    func end(_ keyHash: String) {
        for waiter in claiming.withLockedValue({ $0.removeValue(forKey: keyHash) }) ?? [] { waiter.resume() }
    }

    /// Waits while a request of this process is claiming the key.
    func wait(for keyHash: String) async {
        await withCheckedContinuation { continuation in
            let inFlight = claiming.withLockedValue { claiming -> Bool in
                guard claiming[keyHash] != nil else { return false }
                claiming[keyHash]!.append(continuation)
                return true
            }
            if !inFlight { continuation.resume() }
        }
    }
}
