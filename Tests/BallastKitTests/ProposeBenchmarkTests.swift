import BallastKit
import BallastLab
import BallastTesting
import Logging
import Testing

@Suite struct ProposeBenchmarkTests {
    /// The benchmark's own checks, on a small run: the stored batches, orders and decision records are
    /// those the proposals name, as many orders as the dry run decided, and the chain verifies. 600
    /// portfolios are stored in three chunks (`Propose.chunkSize`), decided on a worker thread.
    @Test func storedProposalsMatchTheDryRunAndChain() throws {
        let connection = try TestDatabase.connect(try TestDatabase.empty())
        defer { connection.close() }
        let result = try ProposeBenchmark(connection: connection, logger: Logger(label: "test")).run(portfolios: 600)
        #expect(result.chainBroken == nil)
        #expect(result.countMismatches.isEmpty)
        #expect(result.breaching > 0 && result.breaching < 600)
        #expect(result.orders > 0 && result.orders == result.plannedOrders)
        #expect(result.decisionRecords >= result.orders && result.decisionRecords == result.verifiedRecords)
    }
}
