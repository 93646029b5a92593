import Foundation

/// Hand-made JWTs for the attacks a library would refuse to produce.
enum TestTokens {
    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// `alg: none`, no signature.
    static func unsigned(_ claims: [String: Any]) -> String {
        let header = base64URL(try! JSONSerialization.data(withJSONObject: ["alg": "none", "typ": "JWT"]))
        let payload = base64URL(try! JSONSerialization.data(withJSONObject: claims))
        return "\(header).\(payload)."
    }

    /// A token with any header algorithm and a junk signature.
    static func withAlgorithm(_ alg: String, _ claims: [String: Any]) -> String {
        let header = base64URL(try! JSONSerialization.data(withJSONObject: ["alg": alg, "typ": "JWT"]))
        let payload = base64URL(try! JSONSerialization.data(withJSONObject: claims))
        return "\(header).\(payload).\(base64URL(Data("junk".utf8)))"
    }
}
