import Foundation
import NIOCore
import Vapor

extension FakeChatRun {
    func streamingResponse() -> Response {
        var headers = HTTPHeaders()
        headers.replaceOrAdd(name: .contentType, value: "text/event-stream; charset=utf-8")
        return Response(
            status: .ok, headers: headers,
            body: .init(stream: { writer in
                FakeSSEStream(run: self, writer: writer).start()
            }))
    }
}

/// One streaming answer: `message`×N → `message_end`; stopped: `message`×k → `message_end`; errors: `message`×k → `error`.
/// Whatever ends the stream, the message keeps the answer produced so far, as in Dify. A directive's events come
/// before the chunks (`/workflow`'s start, `/agent`'s tool step, `/file`'s `message_file`) and after them
/// (`/workflow`'s last nodes and `workflow_finished`, also when stopped).
///
/// Frames are written the way Dify's `convert_to_event_stream` does (`data: <compact json>` and a blank line), with
/// `event: ping` whenever the stream has been silent for `pingInterval` (counted from the request's start).
///
/// Driven by timers on the connection's event loop rather than by a task: a task sleeping between tokens and
/// awaiting each write cost several thread hand-offs per token, which at a thousand concurrent streams made the
/// fake, not the client under test, the busiest process on the machine.
final class FakeSSEStream: @unchecked Sendable {
    // Every stored `var` is read and written on `eventLoop` only; that is what makes `@unchecked Sendable` sound.
    private let run: FakeChatRun
    private let writer: any BodyStreamWriter
    private let eventLoop: any EventLoop
    private let chunks: [String]
    private let workflow: FakeWorkflowRun?
    private var produced: [String] = []
    private var lastWrite: ContinuousClock.Instant
    /// The answer went to the store (or is on its way there); nothing more to save.
    private var saved = false
    /// The response is over (ended, failed, or the client went away); pending timers do nothing.
    private var over = false

    /// How often a wait looks at the stop flag: a stop is noticed within this (Dify: within about 1 s).
    private static let stopCheckInterval = Duration.milliseconds(250)

    init(run: FakeChatRun, writer: any BodyStreamWriter) {
        self.run = run
        self.writer = writer
        self.eventLoop = writer.eventLoop
        self.chunks = run.chunks
        self.workflow = run.ticket.workflowRunID.map { FakeWorkflowRun(id: $0, ticket: run.ticket) }
        self.lastWrite = run.started
    }

    func start() {
        wait(run.options.latency) { [self] in
            if run.fault == .malformedJSON {
                save(answer: "") { [self] in
                    send(
                        raw: "data: " + #"{"event":"message","conversation_id":""# + run.ticket.conversationID
                            + #"","answer":"Ech"# + "\n\n")
                    end()
                }
            } else {
                for event in prelude() { send(event) }
                step(0)
            }
        }
    }

    /// Chunk `index` next: an injected fault may end the stream here; chunks after the first wait the token delay.
    private func step(_ index: Int) {
        guard index < chunks.count else {
            if !interruptedByFault(at: index) { complete() }
            return
        }
        if interruptedByFault(at: index) { return }
        let send = { [self] in
            self.send(chunkEvent(chunks[index]))
            produced.append(chunks[index])
            step(index + 1)
        }
        if index == 0 { send() } else { wait(run.options.tokenDelay, then: send) }
    }

    /// Saves what was produced, then `message_end` (also after a stop).
    private func complete(stopped: Bool = false) {
        save(answer: produced.joined()) { [self] in
            for event in postlude(stopped: stopped) { send(event) }
            send(
                run.event(
                    "message_end",
                    [
                        ("task_id", .string(run.ticket.taskID)), ("id", .string(run.ticket.messageID)),
                        ("metadata", run.metadata(completionChunks: produced.count)), ("files", .array([])),
                    ]))
            end()
        }
    }

    /// One answer chunk: an agent's `agent_message`, else `message` (a chatflow's naming the LLM node's output).
    private func chunkEvent(_ chunk: String) -> FakeDifyJSON {
        let fields: [(String, FakeDifyJSON)] = [
            ("task_id", .string(run.ticket.taskID)), ("id", .string(run.ticket.messageID)), ("answer", .string(chunk)),
        ]
        if run.ticket.agentStep != nil { return run.event("agent_message", fields) }
        let selector: FakeDifyJSON = workflow == nil ? .null : .array([.string("llm"), .string("text")])
        return run.event("message", fields + [("from_variable_selector", selector)])
    }

    /// The directives' events before the first chunk.
    private func prelude() -> [FakeDifyJSON] {
        let task = ("task_id", FakeDifyJSON.string(run.ticket.taskID))
        var events =
            workflow.map { flow in
                [
                    flowEvent("workflow_started", flow.startedData), flowEvent("node_started", flow.nodeData(0)),
                    flowEvent("node_finished", flow.nodeData(0, finished: "")),
                    flowEvent("node_started", flow.nodeData(1)),
                ]
            } ?? []
        if let step = run.ticket.agentStep {
            events += [false, true].map { run.event("agent_thought", [task] + step.eventFields(observed: $0)) }
        }
        events += run.ticket.assistantFiles.map { file in
            run.event(
                "message_file",
                [
                    task, ("id", file["id"] ?? .null), ("type", .string("image")), ("belongs_to", .string("assistant")),
                    ("url", file["url"] ?? .null),
                ])
        }
        return events
    }

    /// The directives' events after the last chunk, before `message_end`.
    private func postlude(stopped: Bool) -> [FakeDifyJSON] {
        guard let flow = workflow else { return [] }
        let answer = produced.joined()
        if stopped { return [flowEvent("workflow_finished", flow.finishedData(answer: answer, status: "stopped"))] }
        return [
            flowEvent("node_finished", flow.nodeData(1, finished: answer)), flowEvent("node_started", flow.nodeData(2)),
            flowEvent("node_finished", flow.nodeData(2, finished: answer)),
            flowEvent("workflow_finished", flow.finishedData(answer: answer, status: "succeeded")),
        ]
    }

    private func flowEvent(_ name: String, _ data: FakeDifyJSON) -> FakeDifyJSON {
        run.event(
            name,
            [
                ("task_id", .string(run.ticket.taskID)), ("workflow_run_id", .string(workflow?.id ?? "")),
                ("data", data),
            ])
    }

    /// Applies `.streamCut`/`.streamError` once N chunks (or all, if fewer) have gone out; true when it ends the stream.
    private func interruptedByFault(at index: Int) -> Bool {
        switch run.fault {
        case .streamCut(let n)? where index >= n:
            // The cut means "the chunks went out, then the connection died": give a client a moment to read them
            // first, or a loaded machine may deliver the reset before the last chunk is read.
            eventLoop.scheduleTask(in: .milliseconds(100)) { [self] in
                guard !over else { return }
                save(answer: produced.joined())
                fail(FakeDifyStreamCut())
            }
            return true
        case .streamError(let n)? where index >= n:
            save(answer: produced.joined(), error: FakeDifyFaultTexts.streamErrorMessage) { [self] in
                send(
                    run.event(
                        "error",
                        [
                            ("code", .string(FakeDifyFaultTexts.streamErrorCode)),
                            ("message", .string(FakeDifyFaultTexts.streamErrorMessage)),
                            ("status", .int(FakeDifyFaultTexts.streamErrorStatus)),
                        ]))
                end()
            }
            return true
        default:
            return false
        }
    }

    /// Waits `duration`, looking at the stop flag every `stopCheckInterval` and sending pings on time, then runs `next`;
    /// a stop ends the answer early with what was produced.
    private func wait(_ duration: Duration, then next: @escaping () -> Void) {
        let deadline = ContinuousClock.now + duration
        func look() {
            guard !over else { return }
            if run.store.isStopped(run.ticket.taskID) { return complete(stopped: true) }
            let now = ContinuousClock.now
            if now >= deadline { return next() }
            var until = min(deadline, now + Self.stopCheckInterval)
            let ping = run.options.pingInterval
            if ping > .zero {
                if now - lastWrite >= ping {
                    send(raw: "event: ping\n\n")
                    return look()
                }
                until = min(until, lastWrite + ping)
            }
            eventLoop.assumeIsolated().scheduleTask(in: .init(until - now)) { look() }
        }
        look()
    }

    private func send(_ json: FakeDifyJSON) {
        var frame = Array("data: ".utf8)
        json.write(to: &frame, style: .compact)
        frame.append(contentsOf: "\n\n".utf8)
        send(ByteBuffer(bytes: frame))
    }

    private func send(raw text: String) {
        send(ByteBuffer(string: text))
    }

    private func send(_ frame: ByteBuffer) {
        guard !over else { return }
        lastWrite = .now
        let written = eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { [self] error in
            // The client went away: keep what was produced, and stop generating.
            guard !over else { return }
            save(answer: produced.joined())
            fail(error)
        }
        writer.write(.buffer(frame), promise: written)
    }

    private func end() {
        guard !over else { return }
        over = true
        writer.write(.end, promise: nil)
    }

    private func fail(_ error: any Error) {
        guard !over else { return }
        over = true
        writer.write(.error(error), promise: nil)
    }

    /// Stores the answer once (the store is an actor), then continues on the event loop.
    private func save(answer: String, error: String? = nil, then next: (() -> Void)? = nil) {
        guard !saved else { next?(); return }
        saved = true
        let (store, ticket, eventLoop) = (run.store, run.ticket, eventLoop)
        let next = next.map { NIOLoopBound($0, eventLoop: eventLoop) }
        Task {
            await store.finishChat(ticket, answer: answer, error: error)
            if let next { eventLoop.execute { next.value() } }
        }
    }
}

/// The chatflow a `/workflow` answer pretends to run (Dify's default chatflow: start → LLM → answer), as the `data`
/// of its events.
struct FakeWorkflowRun {
    /// The fake app's one published workflow.
    static let workflowID = "5f0c6c2e-3a8b-4f7e-9a41-0d6f4c1e2b7a"

    let id: String
    let ticket: FakeChatTicket
    /// Node execution ids, one per node: `node_started` and `node_finished` of a node share it.
    let executionIDs = (0..<3).map { _ in UUID().uuidString.lowercased() }
    let started = Int(Date().timeIntervalSince1970)
    static let nodes = [("start", "start", "Start"), ("llm", "llm", "LLM"), ("answer", "answer", "Answer")]

    var inputs: FakeDifyJSON {
        .object([
            ("sys.query", .string(ticket.query)), ("sys.files", .array([])),
            ("sys.conversation_id", .string(ticket.conversationID)), ("sys.user_id", .string(ticket.user)),
        ])
    }

    var startedData: FakeDifyJSON {
        .object([
            ("id", .string(id)), ("workflow_id", .string(Self.workflowID)), ("inputs", inputs),
            ("created_at", .int(started)),
        ])
    }

    /// Node `index`'s `node_started` data, or with `finished` (the answer so far) its `node_finished` data.
    func nodeData(_ index: Int, finished answer: String? = nil) -> FakeDifyJSON {
        let (nodeID, type, title) = Self.nodes[index]
        var fields: [(String, FakeDifyJSON)] = [
            ("id", .string(executionIDs[index])), ("node_id", .string(nodeID)), ("node_type", .string(type)),
            ("title", .string(title)), ("index", .int(index + 1)),
            ("predecessor_node_id", index == 0 ? .null : .string(Self.nodes[index - 1].0)),
            ("inputs", index == 0 ? inputs : .object([])), ("created_at", .int(started)),
        ]
        guard let answer else {
            return .object(fields + [("extras", .object([])), ("iteration_id", .null), ("loop_id", .null)])
        }
        let outputs: FakeDifyJSON =
            switch type {
            case "start": inputs
            case "llm": .object([("text", .string(answer)), ("finish_reason", .string("stop"))])
            default: .object([("answer", .string(answer))])
            }
        fields += [
            ("process_data", .null), ("outputs", outputs), ("status", .string("succeeded")), ("error", .null),
            ("elapsed_time", .double(0.01)), ("execution_metadata", .null),
            ("finished_at", .int(Int(Date().timeIntervalSince1970))), ("files", .array([])),
            ("iteration_id", .null), ("loop_id", .null),
        ]
        return .object(fields)
    }

    func finishedData(answer: String, status: String) -> FakeDifyJSON {
        let now = Int(Date().timeIntervalSince1970)
        return .object([
            ("id", .string(id)), ("workflow_id", .string(Self.workflowID)), ("status", .string(status)),
            ("outputs", .object([("answer", .string(answer))])), ("error", .null),
            ("elapsed_time", .double(Double(now - started))),
            ("total_tokens", .int(FakeDifyAnswer.chunks(of: answer).count)),
            ("total_steps", .int(Self.nodes.count)),
            (
                "created_by",
                .object([("id", .string(FakeDifyRoutes.endUserID(ticket.user))), ("user", .string(ticket.user))])
            ),
            ("created_at", .int(started)), ("finished_at", .int(now)), ("exceptions_count", .int(0)),
            ("files", .array([])),
        ])
    }
}
