/// A file, recording or read-aloud the gateway refuses before Dify sees it.
enum MediaError: Error, Equatable {
    /// The app takes no files with a message.
    case uploadsDisabled
    case unsupportedFileType(String)
    case fileTooLarge(limit: Int)
    case tooManyFiles(limit: Int)
    case invalidFiles(String)
    /// The app has not turned the feature on (`speech_to_text`, `text_to_speech`).
    case featureDisabled(String)
    case textTooLong(limit: Int)
    case textOrMessageRequired
    /// A chat token reads aloud its user's answers only, not any text.
    case textNeedsAPIKey
    /// Dify's own 400, 413 or 415.
    case refusedByDify(status: Int, message: String)

    /// Dify's refusal of what the caller sent (a form without a file, its own limits, a file it cannot read) as the
    /// caller's to change; any other error as it is.
    static func callersOwn(_ error: any Error) -> any Error {
        if case .upstream(let status, _, let message)? = error as? DifyError, [400, 413, 415].contains(status) {
            return MediaError.refusedByDify(status: status, message: message)
        }
        return error
    }

    var status: Int {
        switch self {
        case .uploadsDisabled, .featureDisabled: 400
        case .textNeedsAPIKey: 403
        case .unsupportedFileType: 415
        case .fileTooLarge, .tooManyFiles: 413
        case .invalidFiles, .textTooLong, .textOrMessageRequired: 422
        case .refusedByDify(let status, _): status
        }
    }

    var detail: String {
        switch self {
        case .uploadsDisabled: "This assistant does not take files."
        case .unsupportedFileType(let name): "This assistant does not take files like \"\(name.prefix(100))\"."
        case .fileTooLarge(let limit): "The file is larger than the limit of \(UploadRules.megabytes(limit))."
        case .tooManyFiles(let limit): "At most \(limit) files can be sent with a message."
        case .invalidFiles(let reason): "files: \(reason)"
        case .featureDisabled(let feature): "This assistant has \(feature) turned off."
        case .textTooLong(let limit): "text is too long (at most \(limit) characters)"
        case .textOrMessageRequired: "message_id or text is required"
        case .textNeedsAPIKey: "A chat token reads aloud an answer (message_id); text needs an API key"
        case .refusedByDify(_, let message): "Dify refused it: \(message.prefix(300))"
        }
    }
}
