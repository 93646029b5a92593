import Foundation

/// What files a Dify app takes with a message, merged from both shapes of `/parameters` `file_upload`: the old
/// `{image: {enabled, number_limits, transfer_methods}}` and the newer `{enabled, allowed_file_types,
/// allowed_file_extensions, allowed_file_upload_methods, number_limits}`; sizes from `system_parameters` (MB).
struct UploadRules: Sendable, Equatable {
    var numberLimits = 0
    /// Dify's file types: `image`, `document`, `audio`, `video`, `custom`.
    var types: Set<String> = []
    /// Lower-case, with the dot; for `custom`, the only extensions it allows.
    var extensions: Set<String> = []
    var transferMethods: Set<String> = []
    /// Bytes, by type.
    var sizeLimits: [String: Int] = [:]

    var enabled: Bool { !types.isEmpty && numberLimits > 0 }

    /// Dify's own extensions of each type (`core/file/constants`), which decide a file's type.
    static let extensionsByType: [String: Set<String>] = [
        "image": [".jpg", ".jpeg", ".png", ".webp", ".gif", ".svg"],
        "document": [
            ".txt", ".markdown", ".md", ".mdx", ".pdf", ".html", ".htm", ".xlsx", ".xls", ".doc", ".docx", ".csv",
            ".eml", ".msg", ".pptx", ".ppt", ".xml", ".epub",
        ],
        "audio": [".mp3", ".m4a", ".wav", ".amr", ".mpga"],
        "video": [".mp4", ".mov", ".mpeg", ".webm"],
    ]

    /// Dify's defaults when `system_parameters` leaves one out.
    static let defaultSizeMB = ["image": 10, "document": 15, "audio": 50, "video": 100, "custom": 15]

    init() {}

    init(parameters json: [String: JSONValue], maxBytes: Int) {
        let upload = json["file_upload"]?.objectValue ?? [:]
        if let image = upload["image"]?.objectValue, case .bool(true)? = image["enabled"] {
            types.insert("image")
            numberLimits = Self.int(image["number_limits"]) ?? 3
            transferMethods.formUnion(image["transfer_methods"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
        if case .bool(true)? = upload["enabled"] {
            types.formUnion(upload["allowed_file_types"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            extensions = Set(
                upload["allowed_file_extensions"]?.arrayValue?.compactMap { $0.stringValue.map(Self.normalized) } ?? [])
            transferMethods.formUnion(
                upload["allowed_file_upload_methods"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            numberLimits = max(numberLimits, Self.int(upload["number_limits"]) ?? 3)
        }
        if transferMethods.isEmpty { transferMethods = ["local_file", "remote_url"] }
        let system = json["system_parameters"]?.objectValue ?? [:]
        let keys = [
            "image": "image_file_size_limit", "document": "file_size_limit", "audio": "audio_file_size_limit",
            "video": "video_file_size_limit", "custom": "file_size_limit",
        ]
        for (type, key) in keys {
            let megabytes = Self.int(system[key]) ?? Self.defaultSizeMB[type]!
            sizeLimits[type] = min(maxBytes, megabytes * 1024 * 1024)
        }
    }

    /// The type Dify gives a file of this name, among those the app allows; nil when it allows none that fits.
    func type(ofFileNamed name: String) -> String? {
        let ext = Self.normalized((name as NSString).pathExtension)
        guard ext != "." else { return nil }
        for type in ["image", "document", "audio", "video"] where types.contains(type) {
            if Self.extensionsByType[type]!.contains(ext) { return type }
        }
        if types.contains("custom"), extensions.isEmpty || extensions.contains(ext) { return "custom" }
        return nil
    }

    /// What the page is told (`GET /v1/parameters` `uploads`).
    var json: JSONValue {
        .object([
            "enabled": .bool(enabled), "number_limits": .number(Double(numberLimits)),
            "types": .array(types.sorted().map(JSONValue.string)),
            "extensions": .array(extensions.sorted().map(JSONValue.string)),
            "transfer_methods": .array(transferMethods.sorted().map(JSONValue.string)),
            "size_limits": .object(sizeLimits.mapValues { .number(Double($0)) }),
            "accept": .object(
                Dictionary(uniqueKeysWithValues: types.map { ($0, .array(accepted(of: $0).map(JSONValue.string))) })),
        ])
    }

    /// The extensions of a type the app takes, in the order `type(ofFileNamed:)` tries them; `*` for any file.
    func accepted(of type: String) -> [String] {
        if let known = Self.extensionsByType[type] { return known.sorted() }
        return extensions.isEmpty ? ["*"] : extensions.sorted()
    }

    /// `"10 MB"` for a byte count, as a refusal says it.
    static func megabytes(_ bytes: Int) -> String {
        bytes % (1024 * 1024) == 0 ? "\(bytes / (1024 * 1024)) MB" : String(format: "%.1f MB", Double(bytes) / 1048576)
    }

    private static func normalized(_ ext: String) -> String {
        let lower = ext.lowercased()
        return lower.hasPrefix(".") ? lower : "." + lower
    }

    private static func int(_ value: JSONValue?) -> Int? {
        if case .number(let number)? = value, number.isFinite { return Int(number) }
        return nil
    }
}
