import Vapor

/// `chat-gateway gen-env`: fresh secret lines to paste into `.env`.
struct GenEnvCommand: AsyncCommand {
    struct Signature: CommandSignature {}
    var help: String {
        "Prints new CHAT_GATEWAY_JWT_SECRET, CHAT_GATEWAY_API_KEY and CHAT_GATEWAY_ENCRYPTION_KEY lines for .env."
    }

    func run(using context: CommandContext, signature: Signature) async throws {
        context.console.print("CHAT_GATEWAY_JWT_SECRET=\(String.randomHex(bytes: 32))")
        context.console.print("CHAT_GATEWAY_API_KEY=\(String.randomHex(bytes: 16))")
        context.console.print("CHAT_GATEWAY_ENCRYPTION_KEY=\(String.randomHex(bytes: 32))")
    }
}
