import Foundation

/// Picks the Dify app for a system: `DIFY_<SYSTEM>_BASE_URL` / `DIFY_<SYSTEM>_API_KEY` when set,
/// each falling back to the shared `DIFY_BASE_URL` / `DIFY_API_KEY`.
public struct DifyTargetResolver: Sendable {
    private let sharedBaseURL: URL?
    private let sharedAPIKey: String?
    private let overrides: [String: Settings.DifyOverride]

    public init(sharedBaseURL: URL?, sharedAPIKey: String?, overrides: [String: Settings.DifyOverride] = [:]) {
        self.sharedBaseURL = sharedBaseURL
        self.sharedAPIKey = sharedAPIKey
        self.overrides = overrides
    }

    /// `cointutor` → `COINTUTOR`, `coin-tutor` → `COIN_TUTOR`.
    public static func environmentSegment(for systemID: String) -> String {
        systemID.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    public func target(forSystem systemID: String) throws(DifyError) -> DifyTarget {
        let override = overrides[Self.environmentSegment(for: systemID)]
        guard let baseURL = override?.baseURL ?? sharedBaseURL, let key = override?.apiKey ?? sharedAPIKey else {
            throw .notConfigured(systemID: systemID)
        }
        return DifyTarget(baseURL: baseURL, apiKey: key)
    }
}
