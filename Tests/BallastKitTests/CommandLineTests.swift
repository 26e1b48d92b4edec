import BallastKit
import BallastTesting
import Foundation
import Testing

/// Runs the built `ballast` executable as an operator would.
enum BallastBinary {
    static var url: URL {
        // Tests/BallastKitTests/CommandLineTests.swift → package root → .build/debug/ballast
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/ballast")
    }

    struct Outcome {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Outcome {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        process.environment = env
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}

@Suite struct CommandLineTests {
    @Test func helpListsTheCommands() throws {
        let outcome = try BallastBinary.run(["--help"])
        #expect(outcome.status == 0)
        for command in ["run", "pull", "report", "db", "bench"] { #expect(outcome.stdout.contains(command)) }
    }

    /// `ballast runs` lists recent runs; one whose process died is shown interrupted, not running.
    @Test func runsListsAKilledRunAsInterrupted() throws {
        let url = try TestDatabase.migrated()
        let gone = try TestDatabase.connect(url)
        let killed = try JobRun.start("execute", on: gone)
        gone.close()  // as a killed process's session ends
        let alive = try TestDatabase.connect(url)
        defer { alive.close() }
        let running = try JobRun.start("pull", on: alive)
        var listing = try BallastBinary.run(["runs", "--last", "5", "--database", url])
        for _ in 0..<20 where !listing.stdout.contains("interrupted") {
            Thread.sleep(forTimeInterval: 0.1)  // the closed session may take a moment to end
            listing = try BallastBinary.run(["runs", "--last", "5", "--database", url])
        }
        #expect(listing.status == 0, "\(listing.stderr)")
        let lines = listing.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix(killed.id) && $0.contains("interrupted") }, "\(listing.stdout)")
        #expect(lines.contains { $0.hasPrefix(running.id) && $0.contains("running") }, "\(listing.stdout)")
        #expect(try BallastBinary.run(["runs", "--last", "0", "--database", url]).status == 64)
    }

    @Test func migrateTwiceSaysUpToDate() throws {
        let url = try TestDatabase.empty()
        let first = try BallastBinary.run(["db", "migrate", "--database", url])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("Applied"))
        let second = try BallastBinary.run(["db", "migrate"], environment: ["BALLAST_DATABASE_URL": url])
        #expect(second.status == 0)
        #expect(second.stdout.contains("Schema is up to date."))
        let status = try BallastBinary.run(["db", "status", "--database", url])
        #expect(status.stdout.contains("0001_schema  applied"))
    }

    @Test func unreachableDatabaseExitsUnavailableWithAHint() throws {
        let outcome = try BallastBinary.run(
            ["db", "migrate", "--database", "postgresql://x@127.0.0.1:1/none?connect_timeout=2"])
        #expect(outcome.status == 69)
        #expect(outcome.stderr.contains("BALLAST_DATABASE_URL"))
    }

    @Test func badOptionsExitWithUsage() throws {
        let outcome = try BallastBinary.run(["db", "migrate", "--log-level", "loud"])
        #expect(outcome.status == 64)
        #expect(outcome.stderr.contains("--log-level"))
    }

    @Test func jsonLogsAreOneObjectPerLine() throws {
        let url = try TestDatabase.empty()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-out-\(UUID().uuidString)")
        _ = try BallastBinary.run(["db", "migrate", "--database", url])
        let outcome = try BallastBinary.run(["report", "--database", url, "--out", out.path, "--log-format", "json"])
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let lines = outcome.stderr.split(separator: "\n")
        #expect(!lines.isEmpty)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["msg"] != nil && object?["level"] != nil)
        }
        // The report wrote its folder (and no .partial one).
        let folder = String(outcome.stdout.split(separator: "\n").last ?? "")
        #expect(FileManager.default.fileExists(atPath: folder + "/audit.xlsx"))
        #expect(FileManager.default.fileExists(atPath: folder + "/fills.csv"))
        #expect(FileManager.default.fileExists(atPath: folder + "/summary.md"))
        #expect(!FileManager.default.fileExists(atPath: folder + ".partial"))
        let dump = try Openpyxl.inspect(folder + "/audit.xlsx")
        #expect(dump.sheets.first?.name == "Summary")
    }
}
