import Foundation
import Testing

/// The files in `Jobs/scheduler/` do what they say when an operator copies them.
@Suite struct SchedulerExampleTests {
    static let scheduler = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Jobs/scheduler")

    /// The commands of the entries in `crontab.example` (/etc/cron.d lines: five time fields,
    /// then the user, then the command): the nightly run, then the drift check.
    static func crontabCommands() throws -> [String] {
        let text = try String(contentsOf: scheduler.appendingPathComponent("crontab.example"), encoding: .utf8)
        let entries = text.split(separator: "\n").filter { line in
            !line.hasPrefix("#") && !line.trimmingCharacters(in: .whitespaces).isEmpty && !line.contains("_TZ=")
        }
        try #require(entries.count == 2, "two crontab entries expected: \(entries)")
        return try entries.map { entry in
            let fields = entry.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: true)
            try #require(fields.count == 7)
            return String(fields[6])
        }
    }

    @Test func theCrontabLinesRunBothTriggers() throws {
        let commands = try Self.crontabCommands()
        #expect(!commands[0].contains("--trigger"), "the nightly is the default trigger")
        #expect(commands[1].contains("--trigger drift-check"))
        #expect(commands[0].contains("ballast.lock") && commands[1].contains("ballast-drift-check.lock"))
    }

    @Test(arguments: [0, 1]) func theCrontabLinePassesTheEnvironmentFileToBallast(entry: Int) throws {
        let documented = try Self.crontabCommands()[entry]
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
            ("/run/lock/", ""), ("/var/log/ballast/", ""),
        ] {
            #expect(command.contains(documentedPath), "\(documentedPath) not in \(documented)")
            let replacement = local.isEmpty ? dir.path + "/" : dir.appendingPathComponent(local).path
            command = command.replacingOccurrences(of: documentedPath, with: replacement)
        }
        // cron runs the command with /bin/sh -c and an almost empty environment.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["-i", "PATH=/usr/bin:/bin", "HOME=\(dir.path)", "/bin/sh", "-c", command]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let log = entry == 0 ? "run.log" : "drift-check.log"
        let seen = try String(contentsOf: dir.appendingPathComponent(log), encoding: .utf8)
            .split(separator: "\n").map(String.init)
        #expect(seen.contains("BALLAST_DATABASE_URL=postgresql://ballast@db.example/ballast"), "\(seen)")
        #expect(seen.contains("BINANCE_API_KEY=key-from-the-file"))
        #expect(seen.contains("BINANCE_API_SECRET=secret-from-the-file"))
    }

    /// A CronJob file as JSON, read by PyYAML (a separate process, as for openpyxl).
    static func cronJob(_ file: String) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import sys, json, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)",
            scheduler.appendingPathComponent(file).path,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 with PyYAML could not read \(file)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test(arguments: [
        ("cronjob.yaml", "ballast.service", false), ("drift-check-cronjob.yaml", "ballast-drift-check.service", true),
    ])
    func theCronJobIgnoresASkippedRunLikeTheSystemdUnit(file: String, unitFile: String, driftCheck: Bool) throws {
        let unit = try String(contentsOf: Self.scheduler.appendingPathComponent(unitFile), encoding: .utf8)
        #expect(unit.split(separator: "\n").contains("SuccessExitStatus=75"))
        #expect(unit.contains("--trigger drift-check") == driftCheck)

        let job = try Self.cronJob(file)
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
        #expect(actionByCode[3] == "FailJob", "exit 3 (finished with breaks or deferrals) alerts, never retries")
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let args = try #require(container["args"] as? [String])
        #expect(args.contains("drift-check") == driftCheck, "\(args)")
        #expect(actionByCode[69] == nil, "exit 69 (a service unavailable) is the one a retry can help")
    }

    @Test func workersRunAsADeploymentAndASystemdTemplateThatFinishTheirUnitOnStop() throws {
        let deployment = try Self.cronJob("workers-deployment.yaml")
        #expect(deployment["kind"] as? String == "Deployment")
        let spec = try #require(deployment["spec"] as? [String: Any])
        #expect((spec["replicas"] as? Int ?? 0) > 1)
        let pod = try #require((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
        // Longer than a unit takes: SIGTERM lets the worker finish the unit in hand.
        #expect((pod["terminationGracePeriodSeconds"] as? Int ?? 0) >= 60)
        let container = try #require((pod["containers"] as? [[String: Any]])?.first)
        let args = try #require(container["args"] as? [String])
        #expect(args.first == "worker" && args.contains("--job") && !args.contains("--exit-when-idle"), "\(args)")
        // The runs the CronJobs start are split for the workers to join.
        for file in ["cronjob.yaml", "drift-check-cronjob.yaml"] {
            let job = try Self.cronJob(file)
            let template = try #require(
                ((job["spec"] as? [String: Any])?["jobTemplate"] as? [String: Any])?["spec"] as? [String: Any])
            let podSpec = try #require((template["template"] as? [String: Any])?["spec"] as? [String: Any])
            let runArgs = try #require((podSpec["containers"] as? [[String: Any]])?.first?["args"] as? [String])
            #expect(runArgs.contains("--workers"), "\(file): \(runArgs)")
        }
        let unit = try String(
            contentsOf: Self.scheduler.appendingPathComponent("ballast-worker@.service"), encoding: .utf8)
        let lines = unit.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("ExecStart=") && $0.contains("ballast worker --job") })
        #expect(lines.contains("KillSignal=SIGTERM") && lines.contains("Restart=always"))
    }
}
