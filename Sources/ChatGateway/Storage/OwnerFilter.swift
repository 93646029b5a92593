import SQLKit

extension SQLPredicateBuilder {
    /// Only the rows of one user of one system (`system_id`, `user_id`).
    func owned(bySystem systemID: String, user userID: String) -> Self {
        self.where("system_id", .equal, SQLBind(systemID)).where("user_id", .equal, SQLBind(userID))
    }
}
