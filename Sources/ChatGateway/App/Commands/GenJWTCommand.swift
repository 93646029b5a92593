import Vapor

/// `chat-gateway gen-jwt [system_id] [user_id] [--hours N]`: a test chat token and its `/chat?token=` link.
///
/// Written against `AnyAsyncCommand` because ConsoleKit signatures cannot express optional positional arguments,
/// and the seed's `gen-jwt.sh` takes both ids optionally.
struct GenJWTCommand: AnyAsyncCommand {
    let settings: Settings
    var help: String {
        "Prints a chat JWT signed with CHAT_GATEWAY_JWT_SECRET and the chat page URL. Usage: gen-jwt [system_id] [user_id] [--hours N]"
    }

    func run(using context: inout CommandContext) async throws {
        var positional: [String] = []
        var hours = 24.0
        var arguments = context.input.arguments[...]
        while let argument = arguments.popFirst() {
            if argument == "--hours", let value = arguments.popFirst().flatMap(Double.init), value > 0 {
                hours = value
            } else if argument.hasPrefix("-") {
                throw Abort(
                    .badRequest, reason: "unknown option \(argument); usage: gen-jwt [system_id] [user_id] [--hours N]")
            } else {
                positional.append(argument)
            }
        }
        let systemID = positional.first ?? "drillquiz"
        let userID = positional.dropFirst().first ?? "test-user"
        try IdentityRules.validate(systemID: systemID, userID: userID)
        if settings.jwtSecretIsEphemeral {
            context.console.warning(
                "CHAT_GATEWAY_JWT_SECRET is not set: this token is signed with a throwaway secret no server knows.")
        }
        if let maxLifetime = settings.jwtPolicy.maxLifetime, hours * 3600 > maxLifetime {
            context.console.warning(
                "--hours \(hours) exceeds CHAT_GATEWAY_JWT_MAX_LIFETIME (\(Int(maxLifetime)) s): the gateway will refuse this token."
            )
        }
        let tokens = await ChatTokenService(settings: settings)
        let token = try await tokens.issue(systemID: systemID, userID: userID, lifetime: hours * 3600)
        context.console.print(token)
        context.console.print("\(settings.publicBaseURL)/chat?token=\(token)")
    }

    func outputHelp(using context: inout CommandContext) throws {
        context.console.print(help)
    }
}
