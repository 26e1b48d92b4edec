import ArgumentParser
import BallastKit
import BallastLab
import Foundation

extension BenchCommand {
    /// `ballast bench replay`: a month of hourly OHLCV bars, 3 assets × 3 venues, all three policies.
    struct ReplayBench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract:
                "Replay every policy over generated OHLCV files (3 assets × 3 venues); print the time per simulated day."
        )

        @OptionGroup var global: GlobalOptions

        @Option(help: "Days of bars.")
        var days: Int = 30

        @Option(help: "Seconds per bar.")
        var interval: Double = 3600

        @Option(help: "Seconds between checks.")
        var every: Double = 300

        @Option(help: "Seconds per market step.")
        var step: Double = 10

        @Option(help: "Seed of the generated bars and of the replay.")
        var seed: Int = 1

        @Option(help: ArgumentHelp("Keep the generated OHLCV files in this folder.", valueName: "dir"))
        var ohlcvOut: String?

        func validate() throws {
            guard days > 0, interval >= 60, every > 0, step > 0, seed >= 0 else {
                throw ValidationError("--days, --every and --step must be positive, --interval at least 60")
            }
        }

        func run() async throws {
            try await global.run("bench") { logger in
                let folder =
                    ohlcvOut.map { URL(fileURLWithPath: $0) }
                    ?? FileManager.default.temporaryDirectory.appendingPathComponent(
                        "ballast-ohlcv-\(UUID().uuidString)")
                defer { if ohlcvOut == nil { try? FileManager.default.removeItem(at: folder) } }
                let bars = Int((Double(days) * 86_400 / interval).rounded())
                let files = try SyntheticOHLCV(
                    start: Date(timeIntervalSince1970: 1_767_225_600), bars: bars, interval: interval,
                    seed: UInt64(seed)
                ).write(into: folder)
                var settings = ReplaySettings(path: .ohlcv(files))
                settings.seed = UInt64(seed)
                settings.checkEvery = every
                settings.stepSeconds = step
                let started = Date()
                let result: ReplayResult
                do throws(ReplayError) {
                    result = try await Replay(settings: settings).run { logger.info("\($0)") }
                } catch {
                    throw BallastError.internalFailure(error.description)
                }
                let seconds = Date().timeIntervalSince(started)
                let simulatedDays = result.seconds / 86_400
                print(
                    "bench replay: \(String(format: "%.1f", simulatedDays)) days of \(Int(interval)) s bars, "
                        + "3 assets × \(settings.venues) venues, \(result.checks) checks every \(Int(every)) s, "
                        + "step \(step) s, policies \(settings.policies.map(\.rawValue).joined(separator: ", "))")
                print(String(format: "  total     : %8.2f s", seconds))
                print(String(format: "  per day   : %8.3f s (all policies)", seconds / simulatedDays))
                print("  peak RSS  : \(ProcessStats.mebibytes(ProcessStats.peakResidentBytes()))")
                print(result.table(order: settings.policies.map(\.rawValue)), terminator: "")
            }
        }
    }
}
