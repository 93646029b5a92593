import FakeDify
import Vapor

// fake-dify [--host 127.0.0.1] [--port 5001] [--api-key KEY]... [--latency-ms N] [--token-delay-ms N]
//           [--ping-interval-ms N] [--log-level LEVEL]
// Prints the listening URL (no /v1) on stdout once listening; stops on SIGINT/SIGTERM.

func usage() -> Never {
    FileHandle.standardError.write(
        Data(
            """
            usage: fake-dify [--host 127.0.0.1] [--port 5001] [--api-key KEY]... [--latency-ms N]
                             [--token-delay-ms N] [--ping-interval-ms N] [--log-level trace|debug|info|notice|warning|error]

            """.utf8))
    exit(2)
}

var host = "127.0.0.1"
var port = 5001
var apiKeys: Set<String> = []
var options = FakeDifyOptions()
var logLevel = Logger.Level.warning

var args = CommandLine.arguments.dropFirst()
while let flag = args.popFirst() {
    if flag == "-h" || flag == "--help" { usage() }
    guard let value = args.popFirst() else { usage() }
    switch flag {
    case "--host": host = value
    case "--port": port = Int(value) ?? { usage() }()
    case "--api-key": apiKeys.insert(value)
    case "--latency-ms": options.latency = .milliseconds(Int(value) ?? { usage() }())
    case "--token-delay-ms": options.tokenDelay = .milliseconds(Int(value) ?? { usage() }())
    case "--ping-interval-ms": options.pingInterval = .milliseconds(Int(value) ?? { usage() }())
    case "--log-level": logLevel = Logger.Level(rawValue: value) ?? { usage() }()
    default: usage()
    }
}
if !apiKeys.isEmpty { options.apiKeys = apiKeys }

let server: FakeDifyServer
do {
    server = try await FakeDifyServer.start(
        host: host, port: port, store: FakeDifyStore(options: options), logLevel: logLevel)
} catch {
    // One line, not a crash report: the usual cause is a port already in use.
    FileHandle.standardError.write(Data("fake-dify: cannot listen on \(host):\(port): \(error)\n".utf8))
    exit(1)
}
// Unbuffered, so a script reading our stdout sees the URL at once.
FileHandle.standardOutput.write(Data((server.baseURL + "\n").utf8))

// Wait for a termination signal, then shut down cleanly.
let (signals, continuation) = AsyncStream<Int32>.makeStream()
let signalSources = [SIGINT, SIGTERM].map { sig in
    signal(sig, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
    source.setEventHandler { continuation.yield(sig) }
    source.resume()
    return source
}
for await _ in signals { break }
signalSources.forEach { $0.cancel() }
try await server.shutdown()
