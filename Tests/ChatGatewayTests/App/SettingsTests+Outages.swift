import Foundation
import Testing

@testable import ChatGateway

/// `DIFY_CIRCUIT_FAILURES`, `DIFY_CIRCUIT_COOLDOWN` and `MAX_HEADER_BYTES`.
extension SettingsTests {
    @Test func breakerAndHeaderLimitDefaults() throws {
        let settings = try Settings.parse(environment: [:], isProduction: false)
        #expect(settings.difyCircuitFailures == 5)
        #expect(settings.difyCircuitCooldown == .seconds(30))
        #expect(settings.maxHeaderBytes == 16_384)
        let tuned = try Settings.parse(
            environment: ["DIFY_CIRCUIT_FAILURES": "0", "DIFY_CIRCUIT_COOLDOWN": "2m", "MAX_HEADER_BYTES": "8192"],
            isProduction: false)
        #expect(tuned.difyCircuitFailures == 0)
        #expect(tuned.difyCircuitCooldown == .seconds(120))
        #expect(tuned.maxHeaderBytes == 8192)
        #expect(
            try Settings.parse(environment: ["DIFY_CIRCUIT_COOLDOWN": "45"], isProduction: false).difyCircuitCooldown
                == .seconds(45))
    }

    @Test(arguments: [
        ("DIFY_CIRCUIT_FAILURES", "-1"),
        ("DIFY_CIRCUIT_FAILURES", "five"),
        ("DIFY_CIRCUIT_COOLDOWN", "off"),
        ("DIFY_CIRCUIT_COOLDOWN", "soon"),
        ("MAX_HEADER_BYTES", "100"),
        ("MAX_HEADER_BYTES", "100000"),
    ])
    func badBreakerAndHeaderValuesNameTheVariable(variable: String, value: String) {
        #expect { try Settings.parse(environment: [variable: value], isProduction: false) } throws: { error in
            (error as? SettingsError)?.variable == variable
        }
    }
}
