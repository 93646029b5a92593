import Fluent

/// Every schema change, in order. Add new ones at the end; never edit a shipped one.
enum GatewayMigrations {
    static func register(on migrations: Migrations) {
        migrations.add(CreateChatUsers())
        migrations.add(CreateConversations())
        migrations.add(CreateMessages())
        migrations.add(CreateLeases())
        migrations.add(CreateCacheIndexes())
        migrations.add(AddMessagePosition())
        migrations.add(CreateOperatorSessions())
        migrations.add(CreateAdminTables())
    }
}
