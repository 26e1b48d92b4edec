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

    /// `cronjob.yaml` as JSON, read by PyYAML (a separate process, as for openpyxl).
    static func cronJob() throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import sys, json, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
            scheduler.appendingPathComponent("cronjob.yaml").path,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 with PyYAML could not read cronjob.yaml")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func theCronJobIgnoresASkippedRunLikeTheSystemdUnit() throws {
        let unit = try String(contentsOf: Self.scheduler.appendingPathComponent("ballast.service"), encoding: .utf8)
        #expect(unit.split(separator: "\n").contains("SuccessExitStatus=75"))

        let job = try Self.cronJob()
        let spec = try #require((job["spec"] as? [String: Any])?["jobTemplate"] as? [String: Any])
        let jobSpec = try #require(spec["spec"] as? [String: Any])
        let pod = try #require((jobSpec["template"] as? [String: Any])?["spec"] as? [String: Any])
        // Kubernetes accepts a podFailurePolicy only with restartPolicy Never.
        #expect(pod["restartPolicy"] as? String == "Never")
        let containers = try #require(pod["containers"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        let rules = try #require(
            (jobSpec["podFailurePolicy"] as? [String: Any])?["rules"] as? [[String: Any]], "no podFailurePolicy")

        var actionByCode: [Int: String] = [:]
        for rule in rules {
            let action = try #require(rule["action"] as? String)
            #expect(["FailJob", "Ignore", "Count"].contains(action), "unknown action \(action)")
            // Each rule matches on exit codes or pod conditions, never both.
            #expect((rule["onExitCodes"] == nil) != (rule["onPodConditions"] == nil))
            guard let codes = rule["onExitCodes"] as? [String: Any] else { continue }
            if let name = codes["containerName"] as? String { #expect(containers.contains(name)) }
            let values = try #require(codes["values"] as? [Int])
            // The API wants the values ascending, without duplicates, and no 0 under In.
            #expect(!values.isEmpty && values == Array(Set(values)).sorted(), "\(values)")
            #expect(codes["operator"] as? String == "In")
            #expect(!values.contains(0))
            for code in values where actionByCode[code] == nil { actionByCode[code] = action }
        }
        #expect(actionByCode[75] == "Ignore", "exit 75 (another run holds the lock) must not count as a failure")
        #expect(actionByCode[69] == nil, "exit 69 (a service unavailable) is the one a retry can help")
    }
}
