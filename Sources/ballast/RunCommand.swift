import ArgumentParser
import BallastKit
import BallastLab
import Foundation

/// `ballast run`: the nightly job.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the job: pull, reconcile, propose, execute approved batches, measure and report.",
        discussion: """
            Steps: pull; reconcile; propose where drift exceeds its band (a batch under the portfolio's \
            approval_cap is approved at once, others wait for `ballast approve`); execute every approved batch; \
            pull again; measure and report into <out>/<date>/<run-id>/. A run locks each portfolio it trades: \
            runs over disjoint portfolios proceed together, and a second run over a portfolio another run \
            holds waits up to --wait, then exits 75 naming the holder's run id. Every step is \
            safe to repeat, so a run that was killed is simply run again.

            --trigger drift-check (or `[run] trigger` in the job file) runs the frequent check instead: \
            balances and books only, propose only for portfolios whose band is breached and whose venues \
            all answered, execute, and measure and report only when something was traded.

            Exit codes: 0 finished cleanly; 3 finished, but with reconciliation breaks or deferred orders \
            to look at; 75 a portfolio is held by another run; 65 bad input; 69 a venue or the database \
            is unavailable; 1 any other failure.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("The job file (TOML).", valueName: "file"))
    var job: String?

    @Flag(
        help: """
            Run against simulated venues started here on 127.0.0.1 (demo accounts, no keys needed) \
            instead of a job file.
            """)
    var simulate = false

    @Option(
        help: ArgumentHelp(
            "nightly (the full job) or drift-check (balances and books only; trade where a band is breached).",
            valueName: "trigger"))
    var trigger: String?

    @Option(
        help: ArgumentHelp(
            "Split the run into work units done by this many local `ballast worker` processes (0: run the steps here).",
            valueName: "n"))
    var workers: Int = 0

    @Option(
        help: ArgumentHelp(
            "With --workers: a worker's claim lapses this long after its last heartbeat.", valueName: "seconds"))
    var lease: Double = 30

    @Option(help: "With --simulate: how many venues.")
    var venues: Int = 3

    @Option(
        help: """
            With --simulate: historical BTCUSDT fills each demo account starts with (the Kraken Spot \
            venue's account at most \(SimulatedVenues.krakenDemoHistory): Kraken's call counter lets a \
            Pro account read about 25 fills a second).
            """)
    var history: Int = 20_000

    @Option(help: "Where reports go: <out>/<date>/<run-id>/.")
    var out: String = "Output"

    @Option(help: "The Templates folder.")
    var templates: String?

    @Flag(help: "Apply pending schema migrations first.")
    var migrate = false

    @Option(
        name: .customLong("csv-bom"),
        help: "Start each CSV with a UTF-8 byte-order mark (Excel on Windows needs it for non-ASCII text).")
    var csvByteOrderMark: Bool = true

    @Option(
        help: ArgumentHelp(
            "Wait up to this long for another run to release a portfolio this job trades (else exit 75 at once).",
            valueName: "seconds"))
    var wait: Double = 0

    @Option(
        help: ArgumentHelp(
            "Finish a failed or interrupted run with the same job file: its completed steps are skipped.",
            valueName: "run-id"))
    var resume: String?

    func validate() throws {
        if resume != nil, simulate { throw ValidationError("--resume needs --job FILE (the run's own job file)") }
        guard wait >= 0, wait.isFinite else { throw ValidationError("--wait must be a number of seconds ≥ 0") }
        guard (job != nil) != simulate else { throw ValidationError("give either --job FILE or --simulate") }
        guard (1...26).contains(venues) else { throw ValidationError("--venues must be 1…26") }
        guard history >= 0 else { throw ValidationError("--history must be ≥ 0") }
        guard (0...64).contains(workers) else { throw ValidationError("--workers must be 0…64") }
        guard lease >= 1, lease.isFinite else { throw ValidationError("--lease must be at least 1 second") }
        if let trigger, Trigger(rawValue: trigger) == nil {
            throw ValidationError("unknown --trigger '\(trigger)' (known: nightly, drift-check)")
        }
    }

    func run() async throws {
        try await global.run("run") { logger in
            var simulated: SimulatedVenues?
            defer { simulated?.stop() }
            let config: JobConfig
            var environment = ProcessInfo.processInfo.environment
            if let job {
                config = try JobConfig.load(path: job)
            } else {
                let venues = try SimulatedVenues(
                    venues: venues, history: history, dialects: SimulatedVenues.demoDialects,
                    krakenTier: SimulatedVenues.krakenDemoTier,
                    krakenHistory: min(history, SimulatedVenues.krakenDemoHistory))
                simulated = venues
                for venue in venues.simulator.venues {
                    logger.info("simulated venue \(venue.name) at \(venue.baseURL)")
                }
                config = venues.config
                environment.merge(venues.environment) { $1 }
            }
            var options = RunJob.Options(
                databaseURL: global.conninfo, outputRoot: URL(fileURLWithPath: out, isDirectory: true),
                templatesFolder: try ReportJob.templatesFolder(explicit: templates), migrate: migrate,
                environment: environment)
            options.csvByteOrderMark = csvByteOrderMark
            options.waitSeconds = wait
            options.resume = resume
            options.trigger = trigger.flatMap(Trigger.init(rawValue:)) ?? config.run.trigger
            var simulatedJob: URL?
            defer { if let simulatedJob { try? FileManager.default.removeItem(at: simulatedJob) } }
            if workers > 0 {
                var jobPath = job
                if let simulated {
                    // The workers read the simulated venues' job from a file, as any worker reads its job.
                    let file = FileManager.default.temporaryDirectory.appendingPathComponent(
                        "ballast-simulated-job-\(UUID().uuidString).toml")
                    try simulated.jobTOML.write(to: file, atomically: true, encoding: .utf8)
                    simulatedJob = file
                    jobPath = file.path
                }
                var split = RunJob.WorkerOptions(
                    count: workers,
                    executable: Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0]),
                    jobPath: jobPath!)
                split.lease = .milliseconds(Int64(lease * 1000))
                options.workers = split
            }
            options.jobName =
                job.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent } ?? "simulate"
            let outcome = try await RunJob(config: config, options: options, logger: logger).run()
            if let simulated, let folder = outcome.folder {
                // The job file the simulated run used, beside its reports.
                try? simulated.jobTOML.write(
                    to: folder.appendingPathComponent("job.toml"), atomically: true, encoding: .utf8)
            }
            logger.info("run finished", metadata: ["output": "\(outcome.folder?.path ?? "no report")"])
            if let folder = outcome.folder { print(folder.path) }
            let attention = outcome.attention
            if !attention.isEmpty {
                logger.notice(
                    "run \(outcome.runID) finished with \(attention.breaks) reconciliation break(s) and \(attention.deferred) deferred order(s) to look at (exit 3)"
                )
                throw ExitCode(3)
            }
        }
    }
}
