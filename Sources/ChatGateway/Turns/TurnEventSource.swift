/// Where a reader finds a turn's entries: the turn's log in this process, or the database for a turn running on
/// another replica or already ended.
protocol TurnEventSource: Sendable {
    /// The entries after `id`, and true when there will be no more.
    func entries(after id: Int) async throws -> (entries: ArraySlice<TurnLog.Entry>, finished: Bool)
    /// Returns when there may be entries after `id`, or `wake(reader:)` was called.
    func wait(after id: Int, reader: Int) async
    func wake(reader: Int)
    func newReader() -> Int
}

extension TurnLog: TurnEventSource {
    func entries(after id: Int) async throws -> (entries: ArraySlice<Entry>, finished: Bool) {
        let (entries, closed) = held(after: id)
        return (entries, closed)
    }
}
