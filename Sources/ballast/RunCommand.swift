import ArgumentParser
import BallastKit
import Foundation

/// `ballast run`: the nightly job.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the job: pull, measure and report (into <out>/<date>/<run-id>/).",
        discussion: """
            Two runs never overlap: a second one exits 75 while the first holds the lock. Every step is \
            safe to repeat, so a run that was killed is simply run again.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: .long, help: ArgumentHelp("The job file (TOML).", valueName: "file"))
    var job: String

    @Option(help: "Where reports go: <out>/<date>/<run-id>/.")
    var out: String = "Output"

    @Option(help: "The Templates folder.")
    var templates: String?

    @Flag(help: "Apply pending schema migrations first.")
    var migrate = false

    func run() async throws {
        try await global.run("run") { logger in
            let config = try JobConfig.load(path: job)
            let options = RunJob.Options(
                databaseURL: global.conninfo, outputRoot: URL(fileURLWithPath: out, isDirectory: true),
                templatesFolder: try ReportJob.templatesFolder(explicit: templates), migrate: migrate)
            let outcome = try await RunJob(config: config, options: options, logger: logger).run()
            logger.info("run finished", metadata: ["output": "\(outcome.folder.path)"])
            print(outcome.folder.path)
        }
    }
}
