/// The fake app's `/info`, `/meta` and `/parameters` answers: by default a chat app with no tools, no
/// knowledge and file upload off; speech to text and text to speech on (without autoplay). The options set the
/// opening statement, starter questions, sources, file upload and voice.
enum FakeDifyAppInfo {
    static let name = "Fake Dify Chat"
    static let openingStatement = "Hello! I am a fake Dify chat app."

    static var info: FakeDifyJSON {
        .object([
            ("name", .string(name)),
            ("description", .string("A stand-in for Dify's Service API, for tests and demos.")),
            ("tags", .array([])),
            ("mode", .string("chat")),
            ("author_name", .string("fake-dify")),
        ])
    }

    /// An app without tools has empty `tool_icons`.
    static var meta: FakeDifyJSON {
        .object([("tool_icons", .object([]))])
    }

    static func enabled(_ on: Bool) -> FakeDifyJSON {
        .object([("enabled", .bool(on))])
    }

    /// `file_upload.image`, the older shape's only member and the newer one's image settings.
    static func imageUpload(enabled: Bool, numberLimits: Int = 3) -> FakeDifyJSON {
        .object([
            ("enabled", .bool(enabled)), ("number_limits", .int(numberLimits)), ("detail", .string("high")),
            ("transfer_methods", .array([.string("remote_url"), .string("local_file")])),
        ])
    }

    /// Note for `inputVariables`: with any form item the spec's `UserInputFormItem` (a `oneOf` of
    /// three wrappers that all accept any object) cannot validate, so the default app has none.
    static func parameters(_ options: FakeDifyOptions) -> FakeDifyJSON {
        let form: [FakeDifyJSON] = options.inputVariables.map { variable in
            .object([
                (
                    "text-input",
                    .object([
                        ("label", .string(variable)), ("variable", .string(variable)),
                        ("required", .bool(false)), ("default", .string("")), ("max_length", .int(256)),
                    ])
                )
            ])
        }
        return .object([
            ("opening_statement", .string(options.openingStatement)),
            ("suggested_questions", .array(options.suggestedQuestions.map { .string($0) })),
            ("suggested_questions_after_answer", enabled(options.suggestedQuestionsEnabled)),
            ("speech_to_text", enabled(options.speechToTextEnabled)),
            (
                "text_to_speech",
                .object([
                    ("enabled", .bool(options.textToSpeechEnabled)), ("voice", .string("")), ("language", .string("")),
                    ("autoPlay", .string("disabled")),
                ])
            ),
            ("retriever_resource", enabled(!options.retrieverResources.isEmpty)),
            ("annotation_reply", enabled(false)),
            ("more_like_this", enabled(false)),
            ("user_input_form", .array(form)),
            (
                "sensitive_word_avoidance",
                .object([
                    ("enabled", .bool(false)), ("type", .string("")), ("configs", .array([])),
                ])
            ),
            (
                "file_upload",
                options.fileUpload ?? .object([("image", imageUpload(enabled: options.imageUploadEnabled))])
            ),
            (
                "system_parameters",
                .object([
                    ("file_size_limit", .int(15)), ("image_file_size_limit", .int(options.imageFileSizeLimitMB)),
                    ("audio_file_size_limit", .int(50)), ("video_file_size_limit", .int(100)),
                    ("workflow_file_upload_limit", .int(10)),
                ])
            ),
        ])
    }
}
