import Foundation

/// Dify's conversation, message and task ids are UUIDs. Callers may send them in any case; the gateway looks them
/// up, compares and forwards them in one form only, lower case, so `ABC…` can't slip past an ownership check that
/// `abc…` would fail.
enum CanonicalID {
    static func uuid(_ raw: String) -> String? {
        UUID(uuidString: raw.trimmingCharacters(in: .whitespaces))?.uuidString.lowercased()
    }
}
