import Fluent
import SQLKit

/// `gateway_budget_holds`: the answers in flight against each budget and period (`BudgetGuard`), shared by
/// replicas on PostgreSQL.
struct CreateBudgetHolds: AsyncMigration {
    func prepare(on database: any Database) async throws {
        try await (database as! any SQLDatabase).create(table: BudgetGuard.holdsTable)
            .column("scope", type: .text, .primaryKey(autoIncrement: false))
            .column("in_flight", type: .bigint, .notNull)
            .column("period_end", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
            .column("updated_at", type: .custom(SQLRaw("DOUBLE PRECISION")), .notNull)
            .run()
    }

    func revert(on database: any Database) async throws {
        try await (database as! any SQLDatabase).drop(table: BudgetGuard.holdsTable).run()
    }
}
