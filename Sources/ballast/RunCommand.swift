import ArgumentParser
import BallastKit
import Foundation

/// `ballast run`: the nightly job.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the job: migrate the schema, then write this run's reports into the output folder.")

    @OptionGroup var global: GlobalOptions

    @Option(help: "Where reports go: <out>/<date>/<run-id>/.")
    var out: String = "Output"

    func run() async throws {
        try await global.run("run") { logger in
            let connection = try global.connect(logger)
            defer { connection.close() }
            let applied = try Migrator(connection: connection, migrations: try Migration.bundled()).migrate()
            logger.info("schema ready", metadata: ["migrations.applied": "\(applied.count)"])
            let run = try JobRun.start("run", on: connection)
            var logger = logger
            logger[metadataKey: "run.id"] = "\(run.id)"
            let folder = try OutputFolder(root: URL(fileURLWithPath: out, isDirectory: true), run: run)
            do {
                try SchemaReport(connection: connection).write(to: folder)
                try folder.commit()
                try run.finish(on: connection)
            } catch {
                folder.discard()
                try? run.finish(on: connection, error: error)
                throw error
            }
            logger.info("run finished", metadata: ["output": "\(folder.url.path)"])
            print(folder.url.path)
        }
    }
}
