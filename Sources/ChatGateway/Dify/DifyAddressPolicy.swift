import Foundation
import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a Dify URL set through the admin API may lead: an `http(s)` origin and path with no user-info, query or
/// fragment, whose host resolves only to public addresses or to `DIFY_ALLOWED_NETWORKS`; link-local addresses
/// (cloud metadata among them) never. Checked when the URL is saved and again before each call, after DNS.
/// The URLs the environment configures are trusted as they are.
/// Webhook endpoints use the same rules with `WEBHOOK_ALLOWED_NETWORKS`, which may allow link-local addresses too.
struct DifyAddressPolicy: Sendable {
    let allowedNetworks: [IPAddressRange]
    /// The variable that allows more, named in refusals.
    var allowingVariable = "DIFY_ALLOWED_NETWORKS"
    /// Whether `allowedNetworks` may let a link-local address through.
    var linkLocalMayBeAllowed = false

    /// Why a URL or address is refused, said for the admin who set it.
    struct Refusal: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    /// The URL's form alone: nil when it is fine.
    static func formProblem(_ text: String) -> String? {
        guard let url = URL.http(text) else { return "must be an http or https URL" }
        // Checked on the text too: `https://dify.example.com?` has an empty query that URL does not report.
        if url.user != nil || url.password != nil || text.contains("@") { return "must not contain user-info (user@)" }
        if url.query != nil || text.contains("?") { return "must not contain a query (?)" }
        if url.fragment != nil || text.contains("#") { return "must not contain a fragment (#)" }
        return nil
    }

    /// Resolves the URL's host and refuses it when any address it has is not allowed.
    func check(_ url: URL) async throws(Refusal) {
        guard let host = url.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")), !host.isEmpty else {
            throw Refusal(description: "has no host")
        }
        let addresses: [[UInt8]]
        do {
            addresses = try await Self.resolve(host)
        } catch {
            throw Refusal(description: "host \(host) does not resolve")
        }
        guard !addresses.isEmpty else { throw Refusal(description: "host \(host) does not resolve") }
        for address in addresses {
            if let problem = problem(with: address) { throw Refusal(description: "host \(host) is \(problem)") }
        }
    }

    /// Why `address` may not be reached, or nil.
    func problem(with address: [UInt8]) -> String? {
        guard let kind = Self.specialKind(of: address) else { return nil }
        if kind == .linkLocal && !linkLocalMayBeAllowed { return kind.rawValue + ", never allowed" }
        return isAllowed(address) ? nil : "\(kind.rawValue) (allow it with \(allowingVariable))"
    }

    /// Whether `address` is inside the allowed networks.
    func isAllowed(_ address: [UInt8]) -> Bool {
        allowedNetworks.contains { $0.contains(bytes: address) }
    }

    enum SpecialKind: String {
        case loopback = "a loopback address"
        case linkLocal = "a link-local address"
        case privateNetwork = "a private address"
        case carrierGradeNAT = "a carrier-grade NAT address"
        case unspecified = "an unspecified address"
        case reserved = "a multicast or reserved address"
    }

    /// What kind of non-public address `address` is (4 bytes for IPv4, 16 for IPv6), or nil for a public one.
    static func specialKind(of address: [UInt8]) -> SpecialKind? {
        if address.count == 4 { return specialKind(ipv4: address) }
        guard address.count == 16 else { return .reserved }
        // NAT64's well-known prefix carries an IPv4 address in its last four bytes.
        if address.prefix(12) == [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] {
            return specialKind(ipv4: Array(address.suffix(4)))
        }
        if address.prefix(15).allSatisfy({ $0 == 0 }) {
            return address[15] == 1 ? .loopback : address[15] == 0 ? .unspecified : .reserved
        }
        if address.prefix(12).allSatisfy({ $0 == 0 }) { return .reserved }  // IPv4-compatible, deprecated
        if address[0] == 0xFE && address[1] & 0xC0 == 0x80 { return .linkLocal }
        if address[0] == 0xFE && address[1] & 0xC0 == 0xC0 { return .privateNetwork }  // site-local, deprecated
        if address[0] & 0xFE == 0xFC { return .privateNetwork }
        if address[0] == 0xFF { return .reserved }
        return nil
    }

    private static func specialKind(ipv4 address: [UInt8]) -> SpecialKind? {
        switch (address[0], address[1]) {
        case (0, _): .unspecified
        case (127, _): .loopback
        case (169, 254): .linkLocal
        case (10, _), (172, 16...31), (192, 168): .privateNetwork
        case (100, 64...127): .carrierGradeNAT
        case (224...255, _): .reserved
        default: nil
        }
    }

    /// Every address `host` resolves to, as the system resolver (the one the HTTP client connects with) gives them:
    /// numeric spellings such as `0x7f.1` or `2130706433` come back as the address they mean.
    static func resolve(_ host: String) async throws -> [[UInt8]] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            #if canImport(Darwin)
                hints.ai_socktype = SOCK_STREAM
            #else
                hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            #endif
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else {
                throw Refusal(description: "host \(host) does not resolve")
            }
            defer { freeaddrinfo(first) }
            var addresses: [[UInt8]] = []
            var node: UnsafeMutablePointer<addrinfo>? = first
            while let entry = node {
                if let pointer = entry.pointee.ai_addr {
                    switch Int32(entry.pointee.ai_family) {
                    case AF_INET:
                        let v4 = pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                        addresses.append(withUnsafeBytes(of: v4) { Array($0) })
                    case AF_INET6:
                        let v6 = pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                        let bytes = withUnsafeBytes(of: v6) { Array($0) }
                        let mapped = bytes.prefix(10).allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
                        addresses.append(mapped ? Array(bytes.suffix(4)) : bytes)
                    default: break
                    }
                }
                node = entry.pointee.ai_next
            }
            return addresses
        }
    }
}
