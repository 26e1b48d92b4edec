public import Logging
public import Postgres

extension Connection {
    /// Opens a second connection to `databaseURL` (by default, the database this one is connected
    /// to) that resolves names the way this one does (same `search_path`), for work that streams in
    /// and out at once.
    public func sibling(databaseURL: String? = nil, logger: Logger) throws -> Connection {
        let databaseURL = databaseURL ?? conninfo
        let searchPath: String = try query("SELECT current_setting('search_path') AS p").first!.decode("p")
        let other = try Connection(conninfo: databaseURL, logger: logger)
        do {
            try other.execute("SELECT set_config('search_path', \(searchPath), false)")
        } catch {
            other.close()
            throw error
        }
        return other
    }
}
