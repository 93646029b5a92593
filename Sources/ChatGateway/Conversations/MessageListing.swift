/// A conversation's rows as `GET /v1/conversations/{id}/messages` lists them: Dify's turns with the sources the
/// gateway kept (linked as the system maps them), and each repeated question folded into its first attempt.
struct MessageListing {
    let notes: ConversationStore.TurnNotes
    let links: SourceLinks

    func rows(for turns: [DifyMessage]) -> [ConversationMessage] {
        var rows: [ConversationMessage] = []
        /// Every attempt of a first one, by the first one's Dify id, and where its answer row is.
        var attempts: [String: (index: Int, answers: [ConversationMessage])] = [:]
        for turn in turns {
            var turnRows = ConversationMessage.rows(for: turn, sources: notes.sources[turn.id])
            for index in turnRows.indices {
                turnRows[index].retrieverResources = links.linked(turnRows[index].retrieverResources)
            }
            let first = notes.regenerates[turn.id]
            if let first, attempts[first] != nil {
                if let answer = turnRows.last, answer.role == "assistant" { attempts[first]!.answers.append(answer) }
                continue
            }
            rows += turnRows
            if first == nil, let answer = turnRows.last, answer.role == "assistant" {
                attempts[turn.id] = (rows.count - 1, [answer])
            }
        }
        for (index, answers) in attempts.values where answers.count > 1 {
            rows[index] = answers.last!
            rows[index].siblings = answers
        }
        return rows
    }
}
