import Foundation
import NIOConcurrencyHelpers
import NIOCore
import SQLKit

/// One row to write: inserted, or merged into the row it collides with. Every write on a chat's path
/// is one of these, so writes from many chats can share one multi-row statement (see `GroupCommitWriter`).
struct RowUpsert: Sendable {
    /// The statement a row belongs to. Rows of one shape become one `INSERT … VALUES (…), (…) ON CONFLICT …`.
    struct Shape: Hashable, Sendable {
        /// Statements of a batch run in this order, so a row that builds on another (an answer's final text
        /// on its `streaming` row, a user message's completion on its pending insert) comes after it.
        let order: Int
        let table: String
        let columns: [String]
        /// Empty: a plain insert.
        let conflict: [String]
        /// The columns taken from the new row on a conflict; empty: keep the existing row.
        let update: [String]

        /// Shapes are looked up for every row of a batch: hashing the table and `order` (one per shape) is enough,
        /// rather than every column name.
        func hash(into hasher: inout Hasher) {
            hasher.combine(order)
            hasher.combine(table)
        }
    }

    let shape: Shape
    /// The row's value of the conflict columns: one statement may not touch a row twice (PostgreSQL refuses),
    /// so rows with the same key in one batch are merged, the later winning.
    let key: String
    let values: [any Encodable & Sendable]
}

extension RowUpsert {
    /// The statements that write `rows`, in `Shape.order`, each at most `maxRowsPerStatement` rows
    /// (SQLite allows 32,766 bound values per statement).
    static func statements(for rows: [RowUpsert], maxRowsPerStatement: Int = 500) -> [Statement] {
        var byShape: [Shape: [String: Int]] = [:]
        var ordered: [Shape: [RowUpsert]] = [:]
        for row in rows {
            if let index = byShape[row.shape]?[row.key] {
                ordered[row.shape]![index] = row
            } else {
                byShape[row.shape, default: [:]][row.key] = ordered[row.shape, default: []].count
                ordered[row.shape, default: []].append(row)
            }
        }
        return ordered.keys.sorted { ($0.order, $0.table) < ($1.order, $1.table) }.flatMap { shape in
            // By key, so that concurrent batches lock the rows they share in the same order (no deadlocks).
            let shapeRows = ordered[shape]!.sorted { $0.key < $1.key }
            return stride(from: 0, to: shapeRows.count, by: maxRowsPerStatement).map {
                Statement(shape: shape, rows: Array(shapeRows[$0..<min($0 + maxRowsPerStatement, shapeRows.count)]))
            }
        }
    }

    /// Runs `statements` in order on `sql`, each committing on its own unless `sql` is inside a transaction.
    static func run(_ statements: [Statement], on sql: any SQLDatabase) async throws {
        for statement in statements { try await statement.run(on: sql) }
    }

    /// Runs `statements` as one transaction on a connection that executes queries one after another, in the
    /// order they were submitted (SQLite's writer: one connection on one thread). `BEGIN`, the statements and
    /// `COMMIT` are queued in one go and run back to back: one trip to that thread and one commit per batch,
    /// instead of a trip and a commit per statement (each commit writes every page it touched to the log).
    /// Waiting for the statements before choosing `COMMIT` or `ROLLBACK` cost a second trip: ~0.25 ms per chat
    /// at one connection (bench/README.md, session 13).
    ///
    /// So when a statement fails, `COMMIT` still commits the batch's other statements, as when each statement
    /// committed on its own. That is safe because every row is an idempotent upsert and `GroupCommitWriter` retries
    /// a failed batch job by job. After any failure a `ROLLBACK` is queued in case a transaction was left open
    /// (a failed `COMMIT`); with none open it fails harmlessly.
    static func runAsOneTransaction(_ statements: [Statement], queuedOn sql: any SQLDatabase) async throws {
        guard statements.count > 1 else { return try await run(statements, on: sql) }
        let queued = [submit("BEGIN IMMEDIATE", on: sql)] + statements.map { $0.execute(on: sql) } + [submit("COMMIT", on: sql)]
        let results = try await EventLoopFuture.whenAllComplete(queued, on: sql.eventLoop).get()
        for case .failure(let error) in results {
            try? await submit("ROLLBACK", on: sql).get()
            throw error
        }
    }

    /// Queues `text` on `sql` without waiting for it (the future-returning `execute`, not the async one).
    private static func submit(_ text: String, on sql: any SQLDatabase) -> EventLoopFuture<Void> {
        sql.execute(sql: SQLRaw(text)) { _ in }
    }

    struct Statement: Sendable {
        let shape: Shape
        let rows: [RowUpsert]

        func run(on sql: any SQLDatabase) async throws {
            try await sql.execute(sql: prepared(for: sql)) { _ in }
        }

        /// Submits the statement at once and returns when it has run (see `runAsOneTransaction`).
        func execute(on sql: any SQLDatabase) -> EventLoopFuture<Void> {
            let submitted: EventLoopFuture<Void> = sql.execute(sql: prepared(for: sql)) { _ in }
            return submitted
        }

        private func prepared(for sql: any SQLDatabase) -> PreparedStatement {
            let text = StatementText.cached(shape: shape, rows: rows.count, dialect: sql.dialect.name) { insert(on: sql) }
            return PreparedStatement(text: text, binds: rows.flatMap(\.values))
        }

        private func insert(on sql: any SQLDatabase) -> SQLInsertBuilder {
            var insert = sql.insert(into: shape.table).columns(shape.columns)
            for row in rows { insert = insert.values(row.values) }
            if !shape.conflict.isEmpty {
                if shape.update.isEmpty {
                    insert = insert.ignoringConflicts(with: shape.conflict)
                } else {
                    insert = insert.onConflict(with: shape.conflict) { update in
                        shape.update.reduce(update) { $0.set(excludedValueOf: $1) }
                    }
                }
            }
            return insert
        }
    }
}

/// The text of a statement depends only on its shape, its number of rows and the SQL dialect, so it is built
/// by SQLKit once and reused. Why: serialising a multi-row upsert through SQLKit's expression tree (quoting
/// every identifier, a placeholder per value) was ~7 % of the gateway's CPU per chat under load.
private enum StatementText {
    private struct Key: Hashable {
        let shape: RowUpsert.Shape
        let rows: Int
        let dialect: String
    }

    /// A memo of a pure function, shared by every database of the process; it holds one text per shape and
    /// batch size seen (a few hundred strings at most: batches are at most `maxRowsPerStatement` rows).
    private static let texts = NIOLockedValueBox<[Key: String]>([:])

    static func cached(shape: RowUpsert.Shape, rows: Int, dialect: String, build: () -> SQLInsertBuilder) -> String {
        let key = Key(shape: shape, rows: rows, dialect: dialect)
        if let text = texts.withLockedValue({ $0[key] }) { return text }
        let builder = build()
        let (text, binds) = builder.database.serialize(builder.insert)
        // The cached text is only valid if its placeholders are exactly the rows' values, in order.
        precondition(binds.count == rows * shape.columns.count, "an upsert's placeholders must be its rows' values")
        texts.withLockedValue { $0[key] = text }
        return text
    }
}

/// A statement whose text is already written, with its values.
private struct PreparedStatement: SQLExpression {
    let text: String
    let binds: [any Encodable & Sendable]

    func serialize(to serializer: inout SQLSerializer) {
        serializer.write(text)
        serializer.binds.append(contentsOf: binds)
    }
}
