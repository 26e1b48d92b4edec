import Foundation
import Testing

/// The files in `Jobs/scheduler/` do what they say when an operator copies them.
@Suite struct SchedulerExampleTests {
    static let scheduler = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Jobs/scheduler")

    /// The command of the one entry in `crontab.example` (an /etc/cron.d line: five time fields,
    /// then the user, then the command).
    static func crontabCommand() throws -> String {
        let text = try String(contentsOf: scheduler.appendingPathComponent("crontab.example"), encoding: .utf8)
        let entries = text.split(separator: "\n").filter { line in
            !line.hasPrefix("#") && !line.trimmingCharacters(in: .whitespaces).isEmpty && !line.contains("_TZ=")
        }
        try #require(entries.count == 1, "one crontab entry expected: \(entries)")
        let fields = entries[0].split(separator: " ", maxSplits: 6, omittingEmptySubsequences: true)
        try #require(fields.count == 7)
        return String(fields[6])
    }

    @Test func theCrontabLinePassesTheEnvironmentFileToBallast() throws {
        let documented = try Self.crontabCommand()
        // cron turns an unescaped % into a newline: the line must not contain one.
        #expect(!documented.contains("%"))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-cron-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The environment file in systemd's EnvironmentFile format, as the unit reads it.
        try """
        # Ballast's environment (also read by ballast.service)
        BALLAST_DATABASE_URL=postgresql://ballast@db.example/ballast
        BINANCE_API_KEY=key-from-the-file
        BINANCE_API_SECRET=secret-from-the-file
        """.write(to: dir.appendingPathComponent("environment"), atomically: true, encoding: .utf8)
        // A stand-in for the binary that prints the environment it was started with.
        let stub = dir.appendingPathComponent("ballast")
        try "#!/bin/sh\nexec env\n".write(to: stub, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: stub.path)

        var command = documented
        for (documentedPath, local) in [
            ("/etc/ballast/environment", "environment"), ("/usr/local/bin/ballast", "ballast"),
            ("/run/lock/ballast.lock", "ballast.lock"), ("/var/log/ballast/run.log", "run.log"),
        ] {
            #expect(command.contains(documentedPath), "\(documentedPath) not in \(documented)")
            command = command.replacingOccurrences(of: documentedPath, with: dir.appendingPathComponent(local).path)
        }
        // cron runs the command with /bin/sh -c and an almost empty environment.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["-i", "PATH=/usr/bin:/bin", "HOME=\(dir.path)", "/bin/sh", "-c", command]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let seen = try String(contentsOf: dir.appendingPathComponent("run.log"), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(seen.contains("BALLAST_DATABASE_URL=postgresql://ballast@db.example/ballast"), "\(seen)")
        #expect(seen.contains("BINANCE_API_KEY=key-from-the-file"))
        #expect(seen.contains("BINANCE_API_SECRET=secret-from-the-file"))
    }
}
