import Foundation
import Vapor

/// Without a configured secret nobody else can mint tokens, so print a ready chat link once the server listens.
struct DevLinkPrinter: LifecycleHandler {
    let settings: Settings
    let tokens: ChatTokenService

    func didBootAsync(_ application: Application) async throws {
        Task { [settings, tokens] in
            // The serve command applies --hostname/--port after boot; wait for the socket to know the real port.
            // Only once the server runs: before that, `http.server.shared` may race the serve command's own first
            // use (Vapor creates the shared server on first access, unlocked), leaving two servers, one of them
            // started and then dropped, which crashes the process ("HTTPServer did not shutdown").
            for _ in 0..<100 {
                if application.running != nil, let port = application.http.server.shared.localAddress?.port {
                    let base = settings.publicBaseURL.replacingOccurrences(of: ":\(settings.port)", with: ":\(port)")
                    let token = try await tokens.issue(systemID: "demo", userID: "dev-user")
                    // Written straight to the descriptor: print() is block-buffered when stdout is a file or pipe.
                    FileHandle.standardOutput.write(
                        Data("Chat page (demo user, valid 24 h): \(base)/chat?token=\(token)\n".utf8))
                    return
                }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}
