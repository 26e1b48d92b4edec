import ArgumentParser
import BallastKit
import Foundation

/// `ballast bench …`: benchmarks that print their figures.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Run a benchmark and print its figures.",
        subcommands: [Copy.self])

    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "COPY fill-shaped rows into PostgreSQL and stream them out again.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Number of rows.")
        var rows: Int = 1_000_000

        func validate() throws {
            guard rows > 0 else { throw ValidationError("--rows must be positive") }
        }

        func run() async throws {
            try await global.run("bench") { logger in
                let connection = try global.connect(logger)
                defer { connection.close() }
                let result = try CopyBenchmark(connection: connection, logger: logger).run(rows: rows) {
                    logger.info("\($0)")
                }
                print("bench copy: \(result.rows) fill rows")
                print(String(format: "  COPY in : %8.3f s  %12.0f rows/s", result.secondsIn, result.rowsPerSecondIn))
                print(
                    String(
                        format: "  COPY out: %8.3f s  %12.0f rows/s  (%.1f MiB streamed)", result.secondsOut,
                        result.rowsPerSecondOut, Double(result.bytesOut) / 1_048_576))
                print("  sum(qty): \(result.quantitySum) (expected \(result.expectedQuantitySum))")
                print("  peak RSS: \(ProcessStats.mebibytes(result.peakResidentBytes))")
                if result.quantitySum != result.expectedQuantitySum { throw ExitCode(1) }
            }
        }
    }
}
