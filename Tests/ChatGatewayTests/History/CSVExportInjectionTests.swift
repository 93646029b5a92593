import Foundation
import Testing

@testable import ChatGateway

/// The export read back by a real CSV parser (Python's `csv`): hostile messages and names stay inside their cells,
/// and no cell starts with a formula.
@Suite("CSV export against injection", .hangLimit)
struct CSVExportInjectionTests {
    static let hostile = [
        "see below\r\n=cmd|' /C calc'!A0", "\r\n=1+1", "lone\rcarriage", "\r=2+2", "lone\nfeed", "\n=3+3",
        "\ttab", "@SUM(A1)", "+1", "-1", "=HYPERLINK(\"x\")", "comma, \"quote\"",
    ]

    @Test func hostileMessagesAndNamesStayInTheirCells() async throws {
        try await GatewayHarness.with { gateway in
            let known = HistorySync.KnownUser(systemID: "drillquiz", userID: "mallory", difyUser: "drillquiz_mallory")
            let created = Int(Date().timeIntervalSince1970)
            var messages: [MessageWrite] = []
            for (turn, text) in Self.hostile.enumerated() {
                messages.append(
                    HistorySync.messageWrite(
                        id: "m\(turn)_user", conversationID: "c1", user: known, role: "user", content: text,
                        position: turn, createdAt: Date(timeIntervalSince1970: TimeInterval(created)), at: Date()))
            }
            let conversation = HistorySync.conversationWrite(
                DifyConversation(id: "c1", name: "name\r\n=1+1", createdAt: created, updatedAt: created), user: known,
                updatedAt: nil, at: Date())
            try await HistorySync.store(conversation, messages: messages, on: gateway.app.db)

            let export = try await gateway.call(.GET, "/v1/cache/export", headers: GatewayHarness.keyHeader)
            #expect(export.status == 200)
            let rows = try Self.parsedByPython(export.body)
            #expect(rows.count == 1 + Self.hostile.count)
            #expect(rows.allSatisfy { $0.count == CacheExporter.columns.count })
            for cell in rows.joined() {
                #expect(
                    !["=", "+", "-", "@", "\t", "\r", "\n"].contains(cell.unicodeScalars.first),
                    "\(cell.debugDescription)")
            }
            let contents = rows.dropFirst().map { $0[6] }
            #expect(
                contents
                    == Self.hostile.map { text in
                        CSV.formulaStarters.contains(text.unicodeScalars.first!) ? "'" + text : text
                    })
            #expect(rows.dropFirst().allSatisfy { $0[3] == "name\r\n=1+1" })
        }
    }

    /// The rows Python's `csv.reader` reads from `data`.
    static func parsedByPython(_ data: Data) throws -> [[String]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import csv, io, json, sys; print(json.dumps(list(csv.reader(io.StringIO(sys.stdin.buffer.read().decode('utf-8'), newline='')))))",
        ]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(data)
        try input.fileHandleForWriting.close()
        let result = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return try JSONDecoder().decode([[String]].self, from: result)
    }
}
