import ArgumentParser
import BallastKit
import Foundation

/// `ballast report`: the audit workbook, CSVs and summary.
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write the audit workbook, one CSV per table and summary.md into <out>/<date>/<run-id>/.",
        discussion: """
            Choose a recorded run with --run (its stored measures are used), or a period with --from/--to \
            (default: the last 24 hours; the period is measured — TCA, routes, drift — alongside the writing). \
            Report definitions are read at run time from the Templates folder (--templates, \
            $BALLAST_TEMPLATES, or ./Templates).
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Report on this recorded run (its period, into its folder).")
    var run: String?

    @Option(
        help: ArgumentHelp("Start of the period (UTC), e.g. 2026-11-25 or 2026-11-25T06:00:00Z.", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("End of the period (UTC, exclusive).", valueName: "time"))
    var to: String?

    @Option(help: "Where reports go.")
    var out: String = "Output"

    @Option(help: "The Templates folder.")
    var templates: String?

    @Option(
        name: .customLong("csv-bom"),
        help: "Start each CSV with a UTF-8 byte-order mark (Excel on Windows needs it for non-ASCII text).")
    var csvByteOrderMark: Bool = true

    func validate() throws {
        if run != nil, from != nil || to != nil { throw ValidationError("give --run or --from/--to, not both") }
    }

    func run() async throws {
        try await global.run("report") { logger in
            let connection = try global.connect(logger)
            defer { connection.close() }
            let scope: ReportJob.Scope
            if let run {
                scope = .run(run)
            } else {
                let end = try to.map(ReportJob.parseTime) ?? Date()
                let start = try from.map(ReportJob.parseTime) ?? end.addingTimeInterval(-86_400)
                scope = .period(from: start, to: end)
            }
            let result = try ReportJob.run(
                scope: scope, connection: connection, databaseURL: global.conninfo,
                templatesFolder: try ReportJob.templatesFolder(explicit: templates),
                outputRoot: URL(fileURLWithPath: out, isDirectory: true), logger: logger,
                measure: { if case .period = scope { true } else { false } }(), csvByteOrderMark: csvByteOrderMark)
            for table in result.tables { print("\(table.sheet): \(table.rows) rows") }
            print(result.folder.path)
        }
    }
}
