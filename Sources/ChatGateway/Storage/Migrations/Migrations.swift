import Fluent

/// Every schema change, in order. Add new ones at the end; never edit a shipped one.
enum GatewayMigrations {
    static var all: [any Migration] {
        [
            CreateChatUsers(), CreateConversations(), CreateMessages(), CreateLeases(), CreateCacheIndexes(),
            AddMessagePosition(), CreateOperatorSessions(), CreateAdminTables(), AddUsageLedger(), CreateRateBuckets(),
            CreateBudgetHolds(), AddTurns(), AddOpenAIAPI(), AddAnswerSources(), CreateWebhooks(), AddDataLifecycle(),
        ]
    }

    static func register(on migrations: Migrations) {
        migrations.add(all)
    }
}
