import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A plain TCP connection to the gateway, for tests that must really close the socket mid-response
/// (an HTTP client library might keep reading or pool the connection). Reads block, so they run on a
/// Dispatch thread: blocking Swift's cooperative pool (two threads here) would stall every other test.
final class RawHTTPConnection: @unchecked Sendable {
    private let socketFD: Int32
    private(set) var received = ""
    /// The gateway closed (or reset) the connection, as opposed to a read that waited 30 s for nothing (a loaded
    /// machine can be silent for 10).
    private(set) var closedByPeer = false

    init(port: Int) throws {
        socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func sendPOST(path: String, headers: [(String, String)], json: Any) throws {
        let body = try JSONSerialization.data(withJSONObject: json)
        var head =
            "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let bytes = Array((head + "\r\n").utf8) + Array(body)
        _ = bytes.withUnsafeBytes { send(socketFD, $0.baseAddress, $0.count, 0) }
    }

    /// Sends bytes as they are (a request head of any size); a peer that already closed is not a crash (no SIGPIPE).
    func sendRaw(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { send(socketFD, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            offset += n
        }
    }

    /// Reads until `count` occurrences of `marker` have arrived (or the peer closes, or 30 s pass in silence).
    func read(until marker: String, count: Int = 1) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.blockingRead(until: marker, count: count)
                done.resume()
            }
        }
    }

    private func blockingRead(until marker: String, count: Int) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.components(separatedBy: marker).count - 1 < count {
            let n = recv(socketFD, &buffer, buffer.count, 0)
            guard n > 0 else {
                closedByPeer = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)
                return
            }
            received += String(decoding: buffer[0..<n], as: UTF8.self)
        }
    }

    func close() { _ = Glibc.close(socketFD) }
}
