import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Makes one attempt to deliver one event, in `timeout` at most: checks the URL's addresses again (DNS may have
/// changed), connects to an address it checked (a name that resolves elsewhere a moment later is not asked again),
/// posts the signed body, and reads the first kilobyte of the answer. Redirects are not followed.
struct WebhookSender: Sendable {
    enum Result: String, Sendable {
        case success, httpError = "http_error", redirect, gone, timeout, unreachable, refused
    }

    struct Outcome: Sendable {
        var result: Result
        var statusCode: Int?
        var latency: Duration
        /// The answer's first bytes, as text.
        var response = ""
        var error: String?
        /// The answer's `Retry-After`, in seconds.
        var retryAfter: Double?
    }

    struct Attempt: Sendable {
        var url: String
        var eventID: String
        var timestamp: Int
        var body: String
        var signature: String
    }

    /// For URLs whose host is an address; a name gets a client of its own, pinned to the address checked.
    let http: HTTPClient
    let configuration: HTTPClient.Configuration
    let eventLoopGroup: any EventLoopGroup
    let urls: WebhookURLPolicy
    /// Success is a 2xx answer within this.
    static let attemptTimeout: Duration = .seconds(15)
    var timeout = attemptTimeout
    static let responseBytes = 1024

    /// A client for webhooks: no redirects, the attempt's time for connecting and reading.
    static func clientConfiguration(timeout: Duration) -> HTTPClient.Configuration {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .init(timeout))
        configuration.tracing.tracer = nil
        return configuration
    }

    func send(_ attempt: Attempt, now: Date) async -> Outcome {
        let started = ContinuousClock.now
        let deadline = started + timeout
        func outcome(_ result: Result, error: String) -> Outcome {
            Outcome(result: result, latency: ContinuousClock.now - started, error: error)
        }
        let checked: (url: URL, addresses: [[UInt8]])
        do {
            checked = try await urls.check(attempt.url)
        } catch {
            return outcome(.refused, error: error.detail)
        }
        var request = HTTPClientRequest(url: attempt.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "chat-gateway-webhooks/1")
        request.headers.add(name: "webhook-id", value: attempt.eventID)
        request.headers.add(name: "webhook-timestamp", value: String(attempt.timestamp))
        request.headers.add(name: "webhook-signature", value: attempt.signature)
        request.body = .bytes(ByteBuffer(string: attempt.body))
        let host = checked.url.host?.trimmingCharacters(in: CharacterSet(charactersIn: "[]")) ?? ""
        var pinned: HTTPClient?
        // IPv4 first where a name has both: the more often reachable.
        let preferred = checked.addresses.first { $0.count == 4 } ?? checked.addresses.first
        if IPAddressRange.bytes(of: host) == nil, let address = preferred.flatMap(IPAddressRange.text) {
            var configuration = configuration
            configuration.dnsOverride = [host: address]
            pinned = HTTPClient(eventLoopGroupProvider: .shared(eventLoopGroup), configuration: configuration)
        }
        defer { if let pinned { Task { try? await pinned.shutdown() } } }
        do {
            let remaining = deadline - ContinuousClock.now
            let response = try await (pinned ?? http).execute(
                request, deadline: .now() + .nanoseconds(max(0, remaining.nanoseconds)))
            let text = await Self.firstBytes(of: response.body, until: deadline)
            let status = Int(response.status.code)
            let result: Result =
                switch status {
                case 200..<300: .success
                case 300..<400: .redirect
                case 410: .gone
                default: .httpError
                }
            return Outcome(
                result: result, statusCode: status, latency: ContinuousClock.now - started, response: text,
                retryAfter: WebhookRetrySchedule.retryAfter(response.headers.first(name: "Retry-After"), now: now))
        } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
            return outcome(.timeout, error: "no answer within \(timeout.components.seconds) s")
        } catch {
            return outcome(.unreachable, error: String(String(describing: error).prefix(300)))
        }
    }

    /// The answer's first kilobyte, as far as it came by `deadline`: the status decided the attempt, and a body that
    /// trickles must not hold the claim.
    private static func firstBytes(
        of body: HTTPClientResponse.Body, until deadline: ContinuousClock.Instant
    ) async
        -> String
    {
        let collected = await withTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                var collected = ByteBuffer()
                do {
                    for try await chunk in body {
                        var chunk = chunk
                        collected.writeBuffer(&chunk)
                        if collected.readableBytes >= responseBytes { break }
                    }
                } catch {
                    // Cut short: shown as far as it came.
                }
                return collected
            }
            group.addTask {
                try? await Task.sleep(until: deadline)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let collected else { return "" }
        return String(decoding: collected.readableBytesView.prefix(responseBytes), as: UTF8.self)
    }
}
