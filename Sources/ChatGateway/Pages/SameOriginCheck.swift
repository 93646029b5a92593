import Vapor

/// Login CSRF: another site must not be able to sign a browser in with the attacker's key (or out).
/// The session cookie is SameSite=Strict; on top of that, a browser's POST to the sign-in and sign-out
/// routes must come from this origin. Requests without these headers (curl, scripts) are not browsers
/// carrying someone else's cookie, and pass.
enum SameOriginCheck {
    static func isCrossSite(_ req: Request) -> Bool {
        if isCrossSiteNavigation(req) { return true }
        guard let origin = req.headers.first(name: .origin) else { return false }
        // An origin is serialized as scheme://host[:port], without a default port. `null` never matches.
        guard let separator = origin.range(of: "://") else { return true }
        let authority = origin[separator.upperBound...].lowercased()
        // Behind a proxy the browser's host is the first X-Forwarded-Host.
        let forwarded = req.headers.first(name: "X-Forwarded-Host")?.split(separator: ",").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let host = (forwarded ?? req.headers.first(name: .host) ?? "").lowercased()
        return authority != withoutDefaultPort(host)
    }

    /// What a GET can be checked by (browsers send no `Origin` on a navigation): `Sec-Fetch-Site`, sent by every
    /// current browser, where "none" means the user started the request (bookmark, address bar).
    static func isCrossSiteNavigation(_ req: Request) -> Bool {
        guard let site = req.headers.first(name: "Sec-Fetch-Site")?.lowercased() else { return false }
        return site != "same-origin" && site != "none"
    }

    private static func withoutDefaultPort(_ host: String) -> String {
        for port in [":80", ":443"] where host.hasSuffix(port) { return String(host.dropLast(port.count)) }
        return host
    }
}
