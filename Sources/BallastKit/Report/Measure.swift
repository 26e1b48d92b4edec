public import Foundation
public import Logging
public import Postgres

/// The measure step: transaction-cost analysis of orders and routes, and
/// realised drift, stored in the measures tables for reports to read.
public struct Measure {
    let connection: Connection
    let logger: Logger

    public init(connection: Connection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    /// Measures the orders created in [`from`, `to`) and stores route aggregates under `runID`.
    public func run(runID: String, from: Date, to: Date) throws {
        // Filled in with the TCA functions of BallastCore.
    }
}
