import Testing

@testable import ChatGateway

/// Which command lines are answered from the commands' help alone, before configuration is read or any database
/// opened (`e2e/cli-smoke.sh` runs each in an empty folder and checks it stays empty).
@Suite("Command-line help", .hangLimit)
struct CommandLineHelpTests {
    @Test(arguments: [
        ["chat-gateway", "--help"], ["chat-gateway", "-h"], ["chat-gateway", "serve", "--help"],
        ["chat-gateway", "migrate", "--help"], ["chat-gateway", "gen-jwt", "-h"], ["chat-gateway", "sync", "--help"],
        ["chat-gateway", "import-legacy", "--help"], ["chat-gateway", "no-such-command"],
    ])
    func helpAndUsageErrorsTouchNothing(arguments: [String]) {
        #expect(GatewayCommands.isHelpOrUsage(arguments))
    }

    @Test(arguments: [
        ["chat-gateway"], ["chat-gateway", "serve"], ["chat-gateway", "--env", "production"],
        ["chat-gateway", "migrate"], ["chat-gateway", "gen-jwt", "drillquiz", "u1"],
    ])
    func commandsRunAsUsual(arguments: [String]) {
        #expect(!GatewayCommands.isHelpOrUsage(arguments))
    }
}
