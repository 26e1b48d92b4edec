import ArgumentParser
import BallastKit
import Dispatch
import Foundation

/// `ballast worker`: claims and does the work units of runs split by `ballast run --workers`.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Claim and do the work units of running runs of a job, on any host that reaches the database.",
        discussion: """
            A run started with `ballast run --job FILE --workers N` is split into units (pull per venue and per \
            account, reconcile, propose per chunk of portfolios, execute per batch, report), stored in \
            PostgreSQL. Workers started with the same job file claim them (FOR UPDATE SKIP LOCKED), one at a \
            time each, and hold a lease they renew; a unit whose worker died is claimed again once its lease \
            lapses, and finishes without repeating what was done. SIGTERM or SIGINT: finish the unit in hand, \
            then exit.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("The job file (TOML) the runs were started with.", valueName: "file"))
    var job: String

    @Option(help: ArgumentHelp("Work on this run's units only.", valueName: "run-id"))
    var run: String?

    @Flag(help: "Exit once no running run of the job has a unit left (else wait for more).")
    var exitWhenIdle = false

    @Option(help: ArgumentHelp("A claim lapses this long after the last heartbeat.", valueName: "seconds"))
    var lease: Double = 30

    @Option(help: ArgumentHelp("This worker's name in work_units (default host:pid).", valueName: "name"))
    var name: String?

    @Option(help: "Where reports go: <out>/<date>/<run-id>/.")
    var out: String = "Output"

    @Option(help: "The Templates folder.")
    var templates: String?

    @Option(name: .customLong("csv-bom"), help: "Start each CSV with a UTF-8 byte-order mark.")
    var csvByteOrderMark: Bool = true

    func validate() throws {
        guard lease >= 1, lease.isFinite else { throw ValidationError("--lease must be at least 1 second") }
    }

    func run() async throws {
        try await global.run("worker") { logger in
            let config = try JobConfig.load(path: job)
            var options = UnitWorker.Options(
                databaseURL: global.conninfo, outputRoot: URL(fileURLWithPath: out, isDirectory: true),
                templatesFolder: try ReportJob.templatesFolder(explicit: templates))
            options.csvByteOrderMark = csvByteOrderMark
            options.lease = .milliseconds(Int64(lease * 1000))
            options.exitWhenIdle = exitWhenIdle
            options.run = run
            if let name { options.name = name }
            let stop = StopFlag()
            var sources: [any DispatchSourceSignal] = []
            for number in [SIGTERM, SIGINT] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    logger.notice("stopping after the unit in hand")
                    stop.raise()
                }
                source.resume()
                sources.append(source)
            }
            defer { for source in sources { source.cancel() } }
            _ = try await UnitWorker(config: config, options: options, logger: logger, stop: stop).run()
        }
    }
}
