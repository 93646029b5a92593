import Foundation
import NIOConcurrencyHelpers

/// The fake app's state: options, injected fault, and every user's conversations and messages.
/// Shared by the routes and by tests, which can seed and inspect it directly.
public actor FakeDifyStore {
    public private(set) var options: FakeDifyOptions
    /// The options the store was made with, which `reset` restores.
    public let initialOptions: FakeDifyOptions
    /// Addition: the fault in force (see `setFault`).
    public private(set) var fault: FakeDifyFault?
    /// How many `POST /v1/chat-messages` calls arrived (counted before auth and faults).
    public private(set) var chatRequestCount = 0
    /// Addition: the raw body of the last chat-messages call, to check what a client sent.
    public private(set) var lastChatRequestBody: String?
    /// Addition: the W3C `traceparent` header of the last chat-messages call, to check trace propagation.
    public private(set) var lastChatTraceparent: String?

    var conversations: [String: FakeConversation] = [:]
    var messages: [String: FakeMessage] = [:]
    /// Running streams by task id, for the stop endpoint. Behind a lock rather than the actor: every stream
    /// looks at its flag between tokens, from its event loop, and a thousand streams must not queue on the actor.
    nonisolated let tasks = FakeTaskFlags()
    /// Generated names waiting for their generation to finish.
    var pendingNames: [String: String] = [:]
    /// Files and audio taken by `/files/upload` and `/audio-to-text`, oldest first.
    public private(set) var uploads: [FakeUploadedFile] = []
    /// Addition: every feedback call that succeeded, oldest first (a withdrawal has a nil rating).
    public private(set) var feedbacks: [FakeDifyFeedback] = []
    /// Every request to the Service API (`/v1/...`), whatever its route.
    public private(set) var requestCount = 0
    private var hangWaiters: [CheckedContinuation<Void, Never>] = []
    /// Addition: chat calls held by `.hang` right now, so a test releases them only once they really wait.
    public var hangingRequestCount: Int { hangWaiters.count }
    private var sequence = 0

    public init(options: FakeDifyOptions = .init()) {
        self.options = options
        self.initialOptions = options
    }

    public func setOptions(_ options: FakeDifyOptions) {
        self.options = options
    }

    /// Applies to `POST /v1/chat-messages` only. Leaving `.hang` releases the requests held by it.
    public func setFault(_ fault: FakeDifyFault?) {
        self.fault = fault
        if fault != .hang { releaseHangs() }
    }

    /// Addition: forgets all conversations, feedback, the fault and the request count, and restores the options
    /// the store was made with.
    public func reset() {
        options = initialOptions
        feedbacks = []
        conversations = [:]
        messages = [:]
        pendingNames = [:]
        chatRequestCount = 0
        requestCount = 0
        uploads = []
        lastChatRequestBody = nil
        lastChatTraceparent = nil
        setFault(nil)
    }

    func recordUpload(user: String, name: String, size: Int, mimeType: String) -> FakeUploadedFile {
        let file = FakeUploadedFile(
            id: UUID().uuidString.lowercased(), user: user, name: name, size: size, mimeType: mimeType)
        uploads.append(file)
        return file
    }

    func countRequest() { requestCount += 1 }

    func recordFeedback(_ feedback: FakeDifyFeedback) { feedbacks.append(feedback) }

    /// Addition: ends everything in flight (streams end as if stopped, hung requests get a 503),
    /// so a server can shut down without waiting for them.
    public func abortInFlight() {
        tasks.stopAll()
        releaseHangs()
    }

    // MARK: Clock

    /// Unix seconds plus a tie-breaking sequence number.
    func tick() -> (seconds: Int, seq: Int) {
        sequence += 1
        return (Int(Date().timeIntervalSince1970) + options.clockOffsetSeconds, sequence)
    }

    // MARK: Chat admission and faults

    /// Counts a chat-messages call as it arrives, before auth.
    func recordChatRequest(body: String?, traceparent: String?) {
        chatRequestCount += 1
        lastChatRequestBody = body
        lastChatTraceparent = traceparent
    }

    /// The fault to apply to an authenticated chat call. For `.hang` it returns only once released.
    func chatFault() async -> FakeDifyFault? {
        if fault == .hang {
            await withCheckedContinuation { hangWaiters.append($0) }
            return .hang
        }
        return fault
    }

    private func releaseHangs() {
        let waiters = hangWaiters
        hangWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Stop

    nonisolated func registerTask(_ taskID: String, user: String) { tasks.register(taskID, user: user) }

    nonisolated func isStopped(_ taskID: String) -> Bool { tasks.isStopped(taskID) }

    /// Like Dify, a stop for an unknown task or another user's task silently does nothing.
    nonisolated func stop(taskID: String, user: String) { tasks.stop(taskID, user: user) }

    nonisolated func unregisterTask(_ taskID: String) { tasks.unregister(taskID) }
}

/// One feedback call as Dify received it.
public struct FakeDifyFeedback: Sendable, Equatable {
    public let messageID: String
    /// `like`, `dislike`, or nil for a withdrawal.
    public let rating: String?
    public let content: String?
    public let user: String

    var json: FakeDifyJSON {
        .object([
            ("message_id", .string(messageID)), ("rating", rating.map(FakeDifyJSON.string) ?? .null),
            ("content", content.map(FakeDifyJSON.string) ?? .null), ("user", .string(user)),
        ])
    }
}

/// Which streams are running, for whom, and whether a stop was asked for.
final class FakeTaskFlags: Sendable {
    private let running = NIOLockedValueBox<[String: (user: String, stopped: Bool)]>([:])

    func register(_ taskID: String, user: String) { running.withLockedValue { $0[taskID] = (user, false) } }
    func unregister(_ taskID: String) { running.withLockedValue { $0[taskID] = nil } }
    /// Unknown tasks count as stopped: nothing is running under that id.
    func isStopped(_ taskID: String) -> Bool { running.withLockedValue { $0[taskID]?.stopped ?? true } }

    func stop(_ taskID: String, user: String) {
        running.withLockedValue { if $0[taskID]?.user == user { $0[taskID]?.stopped = true } }
    }

    func stopAll() {
        running.withLockedValue { tasks in for id in tasks.keys { tasks[id]?.stopped = true } }
    }
}
