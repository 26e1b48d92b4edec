import ArgumentParser
import BallastKit
import Foundation
import Postgres

/// `ballast runs`: recent runs and how they ended.
struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract:
            "List recent runs (newest first) with their status (running, succeeded, failed or interrupted) and steps.",
        discussion: """
            A run whose process is gone without recording its end (killed, or its database connection lost) \
            is marked interrupted first, so what reads running is running.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "How many runs to list.")
    var last = 20

    func validate() throws {
        guard last > 0 else { throw ValidationError("--last must be positive") }
    }

    func run() async throws {
        try await global.run("runs") { logger in
            let connection = try global.connect(logger)
            defer { connection.close() }
            try Schema.requireCurrent(connection)
            let runs = try JobRun.recent(last, on: connection)
            let steps = Dictionary(grouping: try RunSteps.of(runs.map(\.id), on: connection), by: \.runID)
            print("run id                      command     status       started (UTC)         seconds  error")
            for run in runs {
                let seconds = run.finishedAt.map { String(format: "%.1f", $0.timeIntervalSince(run.startedAt)) } ?? "—"
                let started = String(Timestamp.iso8601(run.startedAt).prefix(19)).replacingOccurrences(
                    of: "T", with: " ")
                let error = (run.error ?? "").split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
                print(
                    run.id.padding(toLength: 28, withPad: " ", startingAt: 0)
                        + run.command.padding(toLength: 12, withPad: " ", startingAt: 0)
                        + run.status.padding(toLength: 13, withPad: " ", startingAt: 0)
                        + started.padding(toLength: 22, withPad: " ", startingAt: 0)
                        + seconds.padding(toLength: 9, withPad: " ", startingAt: 0) + String(error.prefix(100)))
                for step in steps[run.id] ?? [] {
                    let took =
                        step.finishedAt.map { String(format: "%.1f s", $0.timeIntervalSince(step.startedAt)) } ?? "—"
                    let what =
                        step.error.flatMap { $0.split(whereSeparator: \.isNewline).first.map(String.init) }
                        ?? step.detail ?? ""
                    let tries = step.attempts > 1 ? " (attempt \(step.attempts))" : ""
                    print(
                        "    " + "\(step.position)".padding(toLength: 3, withPad: " ", startingAt: 0)
                            + step.step.padding(toLength: 18, withPad: " ", startingAt: 0)
                            + step.outcome.padding(toLength: 10, withPad: " ", startingAt: 0)
                            + took.padding(toLength: 10, withPad: " ", startingAt: 0) + String(what.prefix(100)) + tries
                    )
                }
            }
        }
    }
}
