/// The demo app: what the gateway's built-in upstream shows a newcomer who has not connected Dify yet.
enum FakeDifyDemo {
    static let openingStatement = """
        Hello! I am the demo assistant of Chat Gateway. No Dify app is connected yet, so my answers come from a \
        built-in stand-in. Ask anything, or pick a question below, to see Markdown, tables, highlighted code, math \
        and the sources behind an answer.
        """

    static let starterQuestions = [
        "What can this chat page do?",
        "Show me a table, some code and a formula",
        "Where do your answers come from?",
    ]

    static let handbookID = "3d5f1a9e-7c2b-4e8d-a6f0-1b2c3d4e5f60"

    static let sources = [
        FakeDifyRetrieverResource(
            position: 1, datasetID: handbookID, datasetName: "Chat Gateway handbook",
            documentID: "8a1e4c7b-2d3f-4a5b-9c6d-7e8f9a0b1c2d", documentName: "Getting started.md",
            segmentID: "c4d5e6f7-0819-4a2b-8c3d-4e5f60718293", score: 0.91,
            content: """
                With no DIFY_BASE_URL the gateway answers from a built-in demo upstream. Set DIFY_BASE_URL and \
                DIFY_API_KEY to connect your own Dify app.
                """),
        FakeDifyRetrieverResource(
            position: 2, datasetID: handbookID, datasetName: "Chat Gateway handbook",
            documentID: "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e", documentName: "Embedding the chat page.md",
            segmentID: "e1f20314-2536-4748-895a-6b7c8d9e0f1a", score: 0.78,
            content: """
                The chat page can be opened full-screen or framed in a client site by the widget; both show the \
                app's opening statement, sources, files and voice when the app enables them.
                """),
    ]

    /// Dify's newer `file_upload` shape: images and documents, three per message, uploaded or by URL.
    static var fileUpload: FakeDifyJSON {
        let methods = FakeDifyJSON.array([.string("local_file"), .string("remote_url")])
        return .object([
            ("enabled", .bool(true)), ("allowed_file_types", .array([.string("image"), .string("document")])),
            ("allowed_file_extensions", .array([])), ("allowed_file_upload_methods", methods),
            ("number_limits", .int(3)), ("image", FakeDifyAppInfo.imageUpload(enabled: true)),
        ])
    }

    /// Quotes the question, then shows what an answer can hold; the same question always gets the same answer.
    static func answer(to question: String) -> String {
        let quoted = question.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }
        return """
            You asked:

            \(quoted.joined(separator: "\n"))

            I am the **demo upstream**, a stand-in for Dify built into Chat Gateway, so this page works before a \
            real app is connected. Here is what an answer can hold.

            ### A table

            | Feature | How it shows |
            |---|---|
            | Markdown | **bold**, *italic*, `inline code` and [links](https://docs.dify.ai/) |
            | Sources | the documents an answer came from, listed under it |
            | Voice | read aloud, and a microphone for the question |

            ### Code

            ```python
            def greet(name: str) -> str:
                return f"Hello, {name}!"
            ```

            ### Math

            $$
            e^{i\\pi} + 1 = 0
            $$

            Try regenerating this answer, rating it, or attaching an image.
            """
    }
}

extension FakeDifyOptions {
    /// The demo app (the gateway's built-in upstream): an opening statement with starter questions, images and
    /// documents, voice, sources on every answer, and rich answers to ordinary questions.
    public static func demo(apiKeys: Set<String>) -> FakeDifyOptions {
        var options = FakeDifyOptions(apiKeys: apiKeys)
        options.openingStatement = FakeDifyDemo.openingStatement
        options.suggestedQuestions = FakeDifyDemo.starterQuestions
        options.retrieverResources = FakeDifyDemo.sources
        options.imageUploadEnabled = true
        options.fileUpload = FakeDifyDemo.fileUpload
        options.answerStyle = .demo
        return options
    }
}
