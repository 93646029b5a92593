/// Streams running per Dify user and in this process (`DIFY_MAX_CONNECTIONS`), counted from before Dify is asked
/// until the answer is read to its end.
actor StreamSlots {
    private var perUser: [String: Int] = [:]
    private var inAll = 0

    enum Outcome: Equatable {
        case reserved
        /// The user has `limit` running.
        case userFull
        /// The process has `totalLimit` running.
        case processFull
    }

    /// Counts a stream against its user's cap and the process's before it starts.
    func reserve(for user: String, limit: Int?, totalLimit: Int) -> Outcome {
        let running = perUser[user, default: 0]
        if let limit, running >= limit { return .userFull }
        guard inAll < totalLimit else { return .processFull }
        perUser[user] = running + 1
        inAll += 1
        return .reserved
    }

    /// Gives back a slot; users with none running are forgotten, so memory stays bounded.
    func release(for user: String) {
        let remaining = perUser[user, default: 1] - 1
        perUser[user] = remaining > 0 ? remaining : nil
        inAll -= 1
    }
}
