/// A conversation's rows as `GET /v1/conversations/{id}/messages` lists them: Dify's turns with the sources the
/// gateway kept (linked as the system maps them), and each repeated question folded into its first attempt.
struct MessageListing {
    let notes: ConversationStore.TurnNotes
    let links: SourceLinks

    func rows(for turns: [DifyMessage]) -> [ConversationMessage] {
        /// A question and every answer it got, its repeats' included, oldest first.
        var groups: [(question: ConversationMessage, answers: [ConversationMessage])] = []
        var groupOfFirst: [String: Int] = [:]
        for turn in turns {
            var turnRows = ConversationMessage.rows(for: turn, sources: notes.sources[turn.id])
            for index in turnRows.indices {
                turnRows[index].retrieverResources = links.linked(turnRows[index].retrieverResources)
            }
            let answers = Array(turnRows.dropFirst())
            if let first = notes.regenerates[turn.id], let group = groupOfFirst[first] {
                groups[group].answers += answers
                continue
            }
            groupOfFirst[turn.id] = groups.count
            groups.append((turnRows[0], answers))
        }
        return groups.flatMap { question, answers -> [ConversationMessage] in
            guard var newest = answers.last else { return [question] }
            if answers.count > 1 { newest.siblings = answers }
            return [question, newest]
        }
    }
}
