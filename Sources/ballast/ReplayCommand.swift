import ArgumentParser
import BallastKit
import BallastLab
import Foundation
import Simulator

/// `ballast replay`: policies compared on one simulated market path, in virtual time.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Compare naive-cron, fixed-band and ballast on the same simulated market path.",
        discussion: """
            Each policy trades its own copy of the same simulated venues (same seed: same prices, same \
            other traders' flow, fees, latency, limits, faults and cash flows), in virtual time, and is \
            measured from the venues' own records. Paths: --scenario vol-spike|trend-chop|flash-crash, or \
            --ohlcv ASSET=FILE per asset (CSV: timestamp, open, high, low, close, volume). README "Replay" \
            states the market model and every measure.
            """)

    @Option(name: .long, help: "A built-in scenario: vol-spike, trend-chop or flash-crash.")
    var scenario: String?

    @Option(
        name: .long, parsing: .upToNextOption,
        help: ArgumentHelp("OHLCV files, one per asset.", valueName: "ASSET=FILE"))
    var ohlcv: [String] = []

    @Option(name: .long, help: "Seed of the path, the flow, latency and faults.")
    var seed: Int = 1

    @Option(name: .long, help: "Policies to compare, comma-separated.")
    var policies: String = ReplayPolicyKind.allCases.map(\.rawValue).joined(separator: ",")

    @Option(name: .long, help: "Simulated venues (naive-cron trades on the first).")
    var venues: Int = 3

    @Option(name: .long, help: "Length of a scenario path, in minutes.")
    var minutes: Double = 120

    @Option(name: .long, help: "Seconds between checks (every policy looks this often).")
    var every: Double = 300

    @Option(name: .long, help: "Seconds per market step.")
    var step: Double = 1

    @Option(name: .long, help: "table or json.")
    var format: String = "table"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Folder for replay.xlsx, the CSVs and result.json (default Output/replay-<path>-seed<N>-<time>).",
            valueName: "dir"))
    var out: String?

    @Option(name: .long, help: ArgumentHelp("The Templates folder.", valueName: "dir"))
    var templates: String?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard (scenario == nil) != ohlcv.isEmpty else {
            throw ValidationError("give either --scenario NAME or --ohlcv ASSET=FILE …")
        }
        if let scenario, Scenario(rawValue: scenario) == nil {
            throw ValidationError(
                "unknown scenario '\(scenario)': \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for pair in ohlcv where pair.split(separator: "=", maxSplits: 1).count != 2 {
            throw ValidationError("--ohlcv takes ASSET=FILE, not '\(pair)'")
        }
        for name in policies.split(separator: ",") where ReplayPolicyKind(rawValue: String(name)) == nil {
            throw ValidationError(
                "unknown policy '\(name)': \(ReplayPolicyKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard ["table", "json"].contains(format) else { throw ValidationError("--format is table or json") }
        guard (1...26).contains(venues) else { throw ValidationError("--venues must be 1…26") }
        guard minutes > 0, every > 0, step > 0, seed >= 0 else {
            throw ValidationError("--minutes, --every and --step must be positive, --seed not negative")
        }
    }

    func run() async throws {
        try await global.run("replay") { logger in
            let path: ReplaySettings.Path
            if let scenario {
                path = .scenario(Scenario(rawValue: scenario)!)
            } else {
                var files: [String: String] = [:]
                for pair in ohlcv {
                    let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    files[parts[0].uppercased()] = parts[1]
                }
                path = .ohlcv(files)
            }
            var settings = ReplaySettings(path: path)
            settings.seed = UInt64(seed)
            settings.policies = policies.split(separator: ",").compactMap { ReplayPolicyKind(rawValue: String($0)) }
            settings.venues = venues
            settings.scenarioSeconds = minutes * 60
            settings.checkEvery = every
            settings.stepSeconds = step
            let result: ReplayResult
            do throws(ReplayError) {
                result = try await Replay(settings: settings).run { logger.info("\($0)") }
            } catch {
                switch error {
                case .invalid(let why): throw BallastError.invalidInput(why)
                case .failed: throw BallastError.internalFailure(error.description)
                }
            }
            let folder = out.map { URL(fileURLWithPath: $0) } ?? ReplayReport.defaultFolder(for: result, at: Date())
            try ReplayReport.write(
                result, policies: settings.policies.map(\.rawValue),
                templates: try ReportJob.templatesFolder(explicit: templates), to: folder)
            logger.info("wrote \(folder.path)")
            let json = result.json()
            print(format == "json" ? json : result.table(order: settings.policies.map(\.rawValue)), terminator: "")
        }
    }
}
