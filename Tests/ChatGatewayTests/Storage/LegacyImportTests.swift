import Fluent
import FluentSQLiteDriver
import Foundation
import SQLKit
import Testing
import Vapor

@testable import ChatGateway

/// A database as the Python gateway left it: its tables, as SQLAlchemy created them on SQLite, in a throwaway file.
struct LegacySQLiteFile {
    static let allTables = ["sync_users", "conversation_mappings", "conversation_cache", "message_cache"]

    /// SQLAlchemy's DDL for the seed's models (see ../shared/seed/legacy-facts.md); its indexes change nothing here.
    static let ddl = [
        // Kept by the Python gateway's separate admin app, so not every legacy database has it.
        "chat_systems": """
        CREATE TABLE chat_systems (id INTEGER NOT NULL, system_id VARCHAR(64) NOT NULL, display_name VARCHAR(200),
        dify_base_url VARCHAR(500), dify_api_key VARCHAR(500), dify_chatbot_token VARCHAR(200), allowed_origins TEXT,
        enabled BOOLEAN NOT NULL, created_at DATETIME, updated_at DATETIME, PRIMARY KEY (id), UNIQUE (system_id))
        """,
        "sync_users": """
        CREATE TABLE sync_users (id INTEGER NOT NULL, system_id VARCHAR(64) NOT NULL, user_id VARCHAR(256) NOT NULL,
        dify_user VARCHAR(320) NOT NULL, updated_at DATETIME, PRIMARY KEY (id), CONSTRAINT uq_sync_user UNIQUE (system_id, user_id))
        """,
        "conversation_mappings": """
        CREATE TABLE conversation_mappings (id INTEGER NOT NULL, system_id VARCHAR(64) NOT NULL, user_id VARCHAR(256) NOT NULL,
        dify_user VARCHAR(320) NOT NULL, conversation_id VARCHAR(128) NOT NULL, created_at DATETIME, updated_at DATETIME,
        summary TEXT, PRIMARY KEY (id))
        """,
        "conversation_cache": """
        CREATE TABLE conversation_cache (id INTEGER NOT NULL, system_id VARCHAR(64) NOT NULL, user_id VARCHAR(256) NOT NULL,
        dify_user VARCHAR(320) NOT NULL, conversation_id VARCHAR(128) NOT NULL, name VARCHAR(512), created_at DATETIME,
        synced_at DATETIME, PRIMARY KEY (id), UNIQUE (conversation_id))
        """,
        "message_cache": """
        CREATE TABLE message_cache (id INTEGER NOT NULL, conversation_id VARCHAR(128) NOT NULL, message_id VARCHAR(128) NOT NULL,
        role VARCHAR(32) NOT NULL, content TEXT NOT NULL, created_at DATETIME, synced_at DATETIME, PRIMARY KEY (id),
        UNIQUE (message_id))
        """,
    ]

    /// Rows as the seed wrote them: naive UTC text timestamps, duplicate mappings (one naming another user), a
    /// cached conversation whose first mapping names a different owner, NULL `created_at`s, a `local-…` message,
    /// and a message whose conversation nobody owns.
    static let rows = [
        "chat_systems": """
        INSERT INTO chat_systems VALUES
        (1, 'cointutor', 'CoinTutor', 'http://127.0.0.1:9', 'app-legacy-77aa', 'tok', '["https://tutor.example.com"]', 1, '2025-01-01 00:00:00', '2025-01-02 00:00:00'),
        (2, 'quiz', NULL, NULL, NULL, NULL, 'https://a.example.com, https://b.example.com:8443', 0, NULL, NULL),
        (3, 'Bad_ID', 'Bad', NULL, NULL, NULL, NULL, 1, NULL, NULL)
        """,
        "sync_users": """
        INSERT INTO sync_users VALUES (1, 'drillquiz', 'u1', 'drillquiz_u1', '2025-01-02 03:04:05.123456'),
        (2, 'cointutor', '999', 'cointutor_999', NULL)
        """,
        "conversation_mappings": """
        INSERT INTO conversation_mappings VALUES (1, 'drillquiz', 'u1', 'drillquiz_u1', 'conv-a', '2025-01-02 03:04:05', NULL, NULL),
        (2, 'drillquiz', 'u2', 'drillquiz_u2', 'conv-c', '2025-03-04 05:06:07', '2025-03-04 05:10:00', NULL),
        (3, 'drillquiz', 'u2', 'drillquiz_u2', 'conv-c', '2025-03-04 05:07:00', '2025-03-04 05:10:00', NULL),
        (4, 'drillquiz', 'intruder', 'drillquiz_intruder', 'conv-c', '2025-03-05 00:00:00', NULL, NULL),
        (5, 'drillquiz', 'u4', 'drillquiz_u4', 'conv-e', '2025-02-01 23:59:00', NULL, NULL)
        """,
        "conversation_cache": """
        INSERT INTO conversation_cache VALUES
        (1, 'drillquiz', 'u1', 'drillquiz_u1', 'conv-a', 'Photosynthesis', '2025-01-02 03:04:05.123456', '2025-01-03 00:00:00'),
        (2, 'cointutor', '999', 'cointutor_999', 'conv-b', NULL, NULL, '2025-02-01 10:00:00'),
        (3, 'drillquiz', 'u3', 'drillquiz_u3', 'conv-e', 'Whose?', '2025-02-02 00:00:00', '2025-02-03 00:00:00')
        """,
        "message_cache": """
        INSERT INTO message_cache VALUES
        (1, 'conv-a', 'm1_user', 'user', 'What is photosynthesis?', '2025-01-02 03:04:06.250000', '2025-01-03 00:00:00'),
        (2, 'conv-a', 'm1_assistant', 'assistant', 'Light into sugar.', '2025-01-02 03:04:06.250000', '2025-01-03 00:00:00'),
        (3, 'conv-c', 'local-0123456789ab', 'user', 'hello?', NULL, '2025-03-04 05:06:08'),
        (4, 'conv-gone', 'm2_user', 'user', 'orphan', '2025-01-01 00:00:00', NULL),
        (5, 'conv-b', 'm3_user', 'user', '안녕하세요', '2025-02-01 09:00:00', NULL),
        (6, 'conv-b', 'm3_assistant', 'assistant', '반갑습니다', '2025-02-01 09:00:00', NULL)
        """,
    ]

    let path: String

    static func make(on app: Application, tables: [String] = allTables) async throws -> LegacySQLiteFile {
        let file = LegacySQLiteFile(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("legacy-\(UUID().uuidString).db").path)
        let id = DatabaseID(string: "legacy-fixture-\(UUID().uuidString)")
        app.databases.use(.sqlite(.file(file.path)), as: id)
        let sql = app.db(id) as! any SQLDatabase
        for table in tables {
            try await sql.raw("\(unsafeRaw: ddl[table]!)").run()
            try await sql.raw("\(unsafeRaw: rows[table]!)").run()
        }
        return file
    }

    func remove() {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

@Suite("import-legacy: the Python gateway's tables into the gateway's", .hangLimit)
struct LegacyImportTests {
    static let importedAt = Date(timeIntervalSince1970: 1_800_000_000)

    /// Small pages, so duplicates and owners are looked up across page boundaries.
    static func importLegacy(
        _ file: LegacySQLiteFile, into gateway: GatewayHarness, pageSize: Int = 2
    ) async throws -> LegacyImportReport {
        let source = try await LegacyDatabase.open(.sqlite(path: file.path), on: gateway.app)
        return try await LegacyImporter(
            source: source, target: gateway.app.db as! any SQLDatabase,
            now: { importedAt }, pageSize: pageSize
        ).run()
    }

    static func utc(_ text: String) -> Date { LegacyTimestamp.parse(text)! }

    static func expectTime(_ date: Date?, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(
            abs((date ?? .distantPast).timeIntervalSince(utc(text))) < 0.000_01,
            "\(String(describing: date)) ≠ \(text)", sourceLocation: sourceLocation)
    }

    static func counts(_ table: LegacyTableReport?) -> [Int] {
        [table?.read ?? -1, table?.added ?? -1, table?.alreadyPresent ?? -1, table?.skipped ?? -1]
    }

    @Test func copiesUsersConversationsAndMessagesWithOwnersRolesAndTimes() async throws {
        try await GatewayHarness.with { gateway in
            let file = try await LegacySQLiteFile.make(on: gateway.app)
            defer { file.remove() }
            let report = try await Self.importLegacy(file, into: gateway)

            #expect(Self.counts(report["sync_users"]) == [2, 2, 0, 0])
            #expect(Self.counts(report["conversation_cache"]) == [3, 3, 0, 0])
            // conv-a and conv-e came with the cache, the second conv-c mapping repeats the first, the third names another user.
            #expect(Self.counts(report["conversation_mappings"]) == [5, 1, 3, 1])
            #expect(report["conversation_mappings"]?.skippedReasons == [MappingsImport.otherOwner: 1])
            #expect(Self.counts(report["message_cache"]) == [6, 5, 0, 1])
            #expect(report["message_cache"]?.skippedReasons == [CachedMessagesImport.noOwner: 1])
            #expect(Self.counts(report.total) == [16, 11, 3, 2])

            let users = try await ChatUser.query(on: gateway.app.db).sort(\.$systemID).all()
            #expect(
                users.map { "\($0.systemID)/\($0.userID)/\($0.difyUser)" } == [
                    "cointutor/999/cointutor_999", "drillquiz/u1/drillquiz_u1",
                ])
            Self.expectTime(users[1].createdAt, "2025-01-02 03:04:05.123456")
            #expect(users[0].createdAt == Self.importedAt)  // NULL updated_at: the import's own time

            let conversations = Dictionary(
                uniqueKeysWithValues: try await StoredConversation.query(on: gateway.app.db).all().map {
                    ($0.conversationID, $0)
                })
            #expect(conversations.keys.sorted() == ["conv-a", "conv-b", "conv-c", "conv-e"])
            let a = try #require(conversations["conv-a"])
            #expect(
                [a.systemID, a.userID, a.difyUser, a.name] == ["drillquiz", "u1", "drillquiz_u1", "Photosynthesis"])
            Self.expectTime(a.createdAt, "2025-01-02 03:04:05.123456")
            Self.expectTime(a.syncedAt, "2025-01-03 00:00:00")
            #expect(a.difyUpdatedAt == nil && a.deletedAt == nil)  // the next sync reads it from Dify in full
            let b = try #require(conversations["conv-b"])
            Self.expectTime(b.createdAt, "2025-02-01 10:00:00")  // NULL created_at, no mapping: synced_at
            #expect(b.name == nil)
            let c = try #require(conversations["conv-c"])
            #expect([c.userID, c.difyUser] == ["u2", "drillquiz_u2"])  // the first mapping wins
            Self.expectTime(c.createdAt, "2025-03-04 05:06:07")
            #expect(c.syncedAt == nil && c.name == nil)
            let e = try #require(conversations["conv-e"])
            // The mapping's owner, the cache's name.
            #expect([e.userID, e.difyUser, e.name] == ["u4", "drillquiz_u4", "Whose?"])

            let messages = Dictionary(
                uniqueKeysWithValues: try await StoredMessage.query(on: gateway.app.db).all().map { ($0.messageID, $0) }
            )
            #expect(
                messages.keys.sorted() == ["local-0123456789ab", "m1_assistant", "m1_user", "m3_assistant", "m3_user"])
            #expect(messages.values.allSatisfy { $0.status == .complete && $0.error == nil && $0.taskID == nil })
            let question = try #require(messages["m1_user"])
            #expect(
                [question.role, question.content, question.conversationID, question.systemID, question.userID]
                    == ["user", "What is photosynthesis?", "conv-a", "drillquiz", "u1"])
            Self.expectTime(question.createdAt, "2025-01-02 03:04:06.25")
            #expect(messages["m1_assistant"]?.role == "assistant")
            let local = try #require(messages["local-0123456789ab"])
            #expect([local.systemID, local.userID] == ["drillquiz", "u2"])
            Self.expectTime(local.createdAt, "2025-03-04 05:06:08")  // NULL created_at: synced_at
            #expect([messages["m3_user"]?.userID, messages["m3_assistant"]?.content] == ["999", "반갑습니다"])
        }
    }

    @Test func clientSystemsComeAlongWithTheirDifyKeysSealed() async throws {
        try await GatewayHarness.with(adjust: { $0.encryptionKey = String(repeating: "ef", count: 32) }) { gateway in
            let file = try await LegacySQLiteFile.make(
                on: gateway.app, tables: LegacySQLiteFile.allTables + ["chat_systems"])
            defer { file.remove() }
            let store = gateway.adminStore
            let sealer = SecretSealer(encryptionKey: String(repeating: "ef", count: 32))
            func run() async throws -> LegacyTableReport? {
                let source = try await LegacyDatabase.open(.sqlite(path: file.path), on: gateway.app)
                return try await LegacyImporter(
                    source: source, target: gateway.app.db as! any SQLDatabase, now: { Self.importedAt },
                    systems: (store, sealer)
                ).run()["chat_systems"]
            }
            let first = try #require(try await run())
            #expect(first.added == 2)
            #expect(first.skippedReasons == ["system_id not usable by the gateway": 1])
            let rows = try await store.systems()
            let tutor = try #require(rows.first { $0.systemID == "cointutor" })
            #expect(tutor.name == "CoinTutor")
            #expect(tutor.difyAPIKeyHint == "…")  // under 16 characters: none of it shown
            #expect(tutor.difyAPIKeySealed.flatMap(sealer.open) == "app-legacy-77aa")
            #expect(tutor.difyAPIKeySealed?.contains("legacy") == false)
            func origins(_ json: String) -> [String] {
                (try? JSONDecoder().decode([String].self, from: Data(json.utf8))) ?? []
            }
            #expect(origins(tutor.allowedOrigins) == ["https://tutor.example.com"])
            #expect(tutor.enabled)
            let quiz = try #require(rows.first { $0.systemID == "quiz" })
            #expect(!quiz.enabled)
            #expect(origins(quiz.allowedOrigins) == ["https://a.example.com", "https://b.example.com:8443"])
            let second = try #require(try await run())
            #expect(second.added == 0 && second.alreadyPresent == 2)
            #expect(try await store.systems() == rows)
        }
    }

    @Test func aSecondRunAddsNothing() async throws {
        try await GatewayHarness.with { gateway in
            let file = try await LegacySQLiteFile.make(on: gateway.app)
            defer { file.remove() }
            _ = try await Self.importLegacy(file, into: gateway)
            let before = try await Self.snapshot(gateway)
            let again = try await Self.importLegacy(file, into: gateway, pageSize: 500)

            #expect(Self.counts(again["sync_users"]) == [2, 0, 2, 0])
            #expect(Self.counts(again["conversation_cache"]) == [3, 0, 3, 0])
            #expect(Self.counts(again["conversation_mappings"]) == [5, 0, 4, 1])
            #expect(Self.counts(again["message_cache"]) == [6, 0, 5, 1])
            #expect(again.total.added == 0)
            #expect(try await Self.snapshot(gateway) == before)
        }
    }

    @Test func whatTheGatewayWroteItselfIsLeftAlone() async throws {
        try await GatewayHarness.with { gateway in
            let file = try await LegacySQLiteFile.make(on: gateway.app)
            defer { file.remove() }
            // The gateway has already served conv-a (renamed since) and registered u1.
            let owner = HistorySync.KnownUser(systemID: "drillquiz", userID: "u1", difyUser: "drillquiz_u1")
            try await HistorySync.store(
                HistorySync.conversationWrite(
                    DifyConversation(id: "conv-a", name: "Renamed", createdAt: 1_750_000_000, updatedAt: nil),
                    user: owner, updatedAt: nil, at: Date()),
                messages: [], on: gateway.app.db)
            try await ConversationStore(database: gateway.app.db, now: Date.init).registerUser(
                CallerIdentity(systemID: "drillquiz", userID: "u1"))
            let report = try await Self.importLegacy(file, into: gateway)
            #expect(Self.counts(report["sync_users"]) == [2, 1, 1, 0])
            #expect(Self.counts(report["conversation_cache"]) == [3, 2, 1, 0])
            let conversation = try #require(
                try await StoredConversation.query(on: gateway.app.db).filter(\.$conversationID == "conv-a").first())
            #expect(conversation.name == "Renamed")
            #expect(
                try await StoredMessage.query(on: gateway.app.db).filter(\.$conversationID == "conv-a").count() == 2)
        }
    }

    @Test func importedHistoryIsServedByTheCacheAPI() async throws {
        try await GatewayHarness.with { gateway in
            let file = try await LegacySQLiteFile.make(on: gateway.app)
            defer { file.remove() }
            _ = try await Self.importLegacy(file, into: gateway)

            let listing = try await gateway.call(
                .GET, "/v1/cache/conversations?system_id=drillquiz", headers: GatewayHarness.keyHeader)
            #expect(listing.status == 200)
            // Newest first.
            #expect(listing.array.map { $0["conversation_id"] as? String } == ["conv-c", "conv-e", "conv-a"])
            let first = try #require(listing.array.last)
            #expect(first["user_id"] as? String == "u1")
            #expect(first["name"] as? String == "Photosynthesis")
            #expect(first["created_at"] as? String == "2025-01-02T03:04:05.123Z")

            let messages = try await gateway.call(
                .GET, "/v1/cache/conversations/conv-a/messages", headers: GatewayHarness.keyHeader)
            #expect(messages.status == 200)
            #expect(messages.array.map { $0["message_id"] as? String } == ["m1_user", "m1_assistant"])
            #expect(messages.array.map { $0["status"] as? String } == ["complete", "complete"])

            let search = try await gateway.call(
                .GET, "/v1/cache/conversations?q=%EB%B0%98%EA%B0%91", headers: GatewayHarness.keyHeader)  // "반갑"
            #expect(search.array.map { $0["conversation_id"] as? String } == ["conv-b"])
        }
    }

    @Test func aMissingTableIsReportedAndTheOthersAreCopied() async throws {
        try await GatewayHarness.with { gateway in
            let file = try await LegacySQLiteFile.make(
                on: gateway.app, tables: ["conversation_cache", "message_cache"])
            defer { file.remove() }
            let report = try await Self.importLegacy(file, into: gateway)
            #expect(report["sync_users"]?.found == false)
            #expect(report["conversation_mappings"]?.found == false)
            // Without mappings, conv-c's message has no owner; conv-e keeps the cache's owner.
            #expect(Self.counts(report["message_cache"]) == [6, 4, 0, 2])
            #expect(
                try await StoredConversation.query(on: gateway.app.db).filter(\.$conversationID == "conv-e").first()?
                    .userID == "u3")
            #expect(report.lines.first == "sync_users             not in the legacy database: nothing to copy")
        }
    }

    @Test func aSourceThatCannotBeOpenedIsAClearError() async throws {
        try await GatewayHarness.with { gateway in
            let missing = FileManager.default.temporaryDirectory.appendingPathComponent(
                "no-such-\(UUID().uuidString).db"
            ).path
            await #expect(throws: LegacyImportError.cannotOpen(source: missing, reason: "no readable file there")) {
                try await LegacyDatabase.open(.sqlite(path: missing), on: gateway.app)
            }
            #expect(!FileManager.default.fileExists(atPath: missing))  // not created by trying

            let text = LegacySQLiteFile(path: missing)
            defer { text.remove() }
            try Data("not a database\n".utf8).write(to: URL(fileURLWithPath: missing))
            do {
                _ = try await LegacyDatabase.open(.sqlite(path: missing), on: gateway.app)
                Issue.record("a text file opened as a database")
            } catch let error as LegacyImportError {
                #expect(error.description.contains("cannot open the legacy database \(missing)"))
            }
        }
    }

    @Test func sourcesAreSpelledAsTheSeedsDatabaseURL() throws {
        #expect(try LegacyDatabase.location(of: "./chat_gateway.db") == .sqlite(path: "./chat_gateway.db"))
        #expect(
            try LegacyDatabase.location(of: "/srv/old/chat_gateway.db") == .sqlite(path: "/srv/old/chat_gateway.db"))
        #expect(try LegacyDatabase.location(of: "sqlite:///./chat_gateway.db") == .sqlite(path: "./chat_gateway.db"))
        #expect(try LegacyDatabase.location(of: "sqlite+aiosqlite:////srv/gw.db") == .sqlite(path: "/srv/gw.db"))
        #expect(
            try LegacyDatabase.location(of: "postgresql+asyncpg://gw:pw@db:5432/gw")
                == .postgres(url: "postgresql://gw:pw@db:5432/gw"))
        #expect(try LegacyDatabase.location(of: "postgres://gw@db/gw") == .postgres(url: "postgres://gw@db/gw"))
        #expect(throws: LegacyImportError.self) { try LegacyDatabase.location(of: "mysql://db/gw") }
        #expect(
            Settings.Database.postgres(url: "postgresql://gw:secret@db:5432/gw").redacted
                == "postgresql://gw:***@db:5432/gw")
    }

    @Test func legacyTimestampsAreNaiveUTC() {
        let base = 1_735_787_045.0  // 2025-01-02 03:04:05 UTC
        #expect(LegacyTimestamp.parse("2025-01-02 03:04:05") == Date(timeIntervalSince1970: base))
        #expect(
            abs(LegacyTimestamp.parse("2025-01-02 03:04:05.123456")!.timeIntervalSince1970 - (base + 0.123456))
                < 0.000_001)
        #expect(LegacyTimestamp.parse("2025-01-02T03:04:05Z") == Date(timeIntervalSince1970: base))
        #expect(LegacyTimestamp.parse("2025-01-02T12:04:05+09:00") == Date(timeIntervalSince1970: base))
        #expect(LegacyTimestamp.parse("2025-01-02 03:04") == Date(timeIntervalSince1970: base - 5))
        #expect(LegacyTimestamp.parse("2025-01-02") == Date(timeIntervalSince1970: base - 3 * 3600 - 4 * 60 - 5))
        #expect(LegacyTimestamp.parse("2024-02-29 00:00:00") == Date(timeIntervalSince1970: 1_709_164_800))
        #expect(LegacyTimestamp.parse("1969-12-31 23:59:59") == Date(timeIntervalSince1970: -1))
        for bad in ["", "yesterday", "2025-13-01", "2025-01-02 25:00:00", "2025-01-02 03:04:05 junk"] {
            #expect(LegacyTimestamp.parse(bad) == nil, "\(bad)")
        }
    }

    /// Every row of the three tables, as text, to compare before and after a run.
    static func snapshot(_ gateway: GatewayHarness) async throws -> [String] {
        let users = try await ChatUser.query(on: gateway.app.db).all().map {
            "\($0.id!) \($0.systemID) \($0.userID) \($0.createdAt) \($0.updatedAt)"
        }
        let conversations = try await StoredConversation.query(on: gateway.app.db).all()
            .map { "\($0.id!) \($0.conversationID) \($0.userID) \($0.name ?? "-") \($0.createdAt) \($0.updatedAt)" }
        let messages = try await StoredMessage.query(on: gateway.app.db).all()
            .map { "\($0.id!) \($0.messageID) \($0.userID) \($0.content) \($0.createdAt) \($0.updatedAt)" }
        return (users + conversations + messages).sorted()
    }
}
