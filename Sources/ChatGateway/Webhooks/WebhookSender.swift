import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Makes one attempt to deliver one event: checks the URL's addresses again (DNS may have changed), posts the
/// signed body, and reads the first kilobyte of the answer. Redirects are not followed.
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

    let http: HTTPClient
    let urls: WebhookURLPolicy
    var timeout: Duration = .seconds(15)
    static let responseBytes = 1024

    func send(_ attempt: Attempt, now: Date) async -> Outcome {
        let started = ContinuousClock.now
        func outcome(_ result: Result, error: String) -> Outcome {
            Outcome(result: result, latency: ContinuousClock.now - started, error: error)
        }
        do {
            _ = try await urls.check(attempt.url)
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
        do {
            let response = try await http.execute(request, deadline: .now() + .nanoseconds(timeout.nanoseconds))
            var collected = ByteBuffer()
            do {
                for try await chunk in response.body {
                    var chunk = chunk
                    collected.writeBuffer(&chunk)
                    if collected.readableBytes >= Self.responseBytes { break }
                }
            } catch {
                // The status is what counts; a body cut short is shown as far as it came.
            }
            let text = String(decoding: collected.readableBytesView.prefix(Self.responseBytes), as: UTF8.self)
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
            return outcome(.unreachable, error: String(describing: error).prefix(300).description)
        }
    }
}
