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

@Suite struct ReportBenchmarkTests {
    /// A small run of `bench report` end to end (generate, measure alongside the report, the floor):
    /// each repetition is timed, its close within it, and the figures the command prints (each
    /// pair's ratio, their spread and median, best against best) are those of its runs.
    @Test func eachPairIsTimedAndTheRatiosPrintedAreThePairs() throws {
        let url = try TestDatabase.empty()
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let bench = ReportBenchmark(
            connection: connection, databaseURL: url, templatesFolder: AuditReportTests.templatesFolder,
            logger: Logger(label: "test"))
        let r = try bench.run(fills: 2_000, repeats: 3) { connection, runID, from, to in
            try Measure(connection: connection, databaseURL: url, logger: Logger(label: "test")).run(
                runID: runID, from: from, to: to)
        }
        #expect(r.fills == 2_000)
        #expect(r.reportRows >= 2_000 + r.orders)
        #expect(r.reportSeconds.count == 3 && r.floorSeconds.count == 3 && r.measureSeconds.count == 3)
        #expect(
            r.reportCloseSeconds.indices.allSatisfy {
                0 < r.reportCloseSeconds[$0] && r.reportCloseSeconds[$0] < r.reportSeconds[$0]
            })
        #expect(r.ratios == zip(r.reportSeconds, r.floorSeconds).map { $0 / $1 })
        #expect(r.medianRatio == r.ratios.sorted()[1])
        #expect(r.bestRatio == r.reportSeconds.min()! / r.floorSeconds.min()!)
    }
}
