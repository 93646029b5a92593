import Vapor

extension ChatTurns.Outcome {
    /// The HTTP answer in one API's shapes: a stream through the wire's `encoder`, or `answer`'s body; each with
    /// `X-Turn-Id`, and `Idempotent-Replayed: true` when it repeats an earlier request's turn.
    func response(
        to req: Request, keepAlive: Duration, encoder: (String) -> any TurnEventEncoder,
        answer body: (DifyChatAnswer) -> Response
    ) throws -> Response {
        let response: Response
        let turnID: String
        let replayed: Bool
        switch self {
        case .stream(let source, let id, let turn, let wasReplayed):
            (turnID, replayed) = (id, wasReplayed)
            if let turn { req.storage[RunningTurnKey.self] = turn }
            response = TurnStream(
                source: source, encoder: encoder(id), after: 0, keepAlive: keepAlive,
                onClientGone: { turn?.clientLeft() }
            ).response()
        case .answer(let answer, let id, let wasReplayed):
            (turnID, replayed) = (id, wasReplayed)
            response = body(answer)
        case .failure(let error, let id):
            (turnID, replayed) = (id, true)
            response = try APIErrorMiddleware.response(for: error, to: req)
        }
        response.headers.replaceOrAdd(name: "X-Turn-Id", value: turnID)
        if replayed { response.headers.replaceOrAdd(name: "Idempotent-Replayed", value: "true") }
        return response
    }
}
