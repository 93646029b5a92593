/// Every text the chat page shows, in the five supported languages (the `chat` section of
/// `Resources/i18n/<code>.json`). The first eight keys and their English texts are the Python
/// gateway's; the page's script receives the whole table as JSON.
struct PageStrings: Codable, Equatable, Sendable, LocalizedStrings {
    // The Python gateway's keys.
    var placeholder: String
    var send: String
    var empty: String
    var emptyFull: String
    var errorList: String
    var errorMessages: String
    var errorSend: String
    var errorUnavailable: String
    var errorTimeout: String
    /// A used-up budget; `{time}` is when it resets, in the page's language.
    var errorBudget: String
    // Controls.
    var title: String
    var messageLabel: String
    var newChat: String
    var conversations: String
    var showConversations: String
    var untitled: String
    var rename: String
    var renameLabel: String
    var save: String
    var cancel: String
    var delete: String
    var deleteConfirm: String
    var stop: String
    var stopped: String
    var retry: String
    var typing: String
    var like: String
    var dislike: String
    var copy: String
    var copied: String
    var suggestions: String
    var you: String
    var assistant: String
    var errorAction: String
    var loading: String
    // Starter questions, files, voice and what an answer shows besides its text. `{name}`, `{size}`, `{count}`, `{index}`,
    // `{score}` and `{tool}` are filled in by the script.
    var starters: String
    var attach: String
    var attachments: String
    var removeFile: String
    var fileTooLarge: String
    var fileTooMany: String
    var fileRefused: String
    var uploading: String
    var uploadFailed: String
    var file: String
    var record: String
    var recordStop: String
    var recording: String
    var transcribing: String
    var microphoneUnavailable: String
    var readAloud: String
    var stopReading: String
    var regenerate: String
    var previousAnswer: String
    var nextAnswer: String
    var answerPosition: String
    var sources: String
    var score: String
    var dislikeReason: String
    var dislikeSend: String
    var feedbackThanks: String
    var feedbackWithdrawn: String
    var steps: String
    var usedTool: String
    var reasoning: String
    var copyCode: String
    // "Download my data" (a system's `self_export`); `{file}` is the downloaded file's name.
    var downloadData: String
    var downloadingData: String
    var downloadedData: String
    var errorDownload: String
    // The error page.
    var errorTitle: String
    var errorMissing: String
    var errorExpired: String
    var errorInvalid: String
    var errorForbidden: String
    var errorHint: String

    static func forLanguage(_ language: String) -> PageStrings { Translations.shared.chat(for: language) }
}
