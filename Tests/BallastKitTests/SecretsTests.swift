import BallastCore
import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Testing

/// The whole job, logged at trace level, leaves no API key or secret — nor its base64 or hex
/// form — in any log line, any table (a `pg_dump` of the database), or any report file.
@Suite(.serialized) struct SecretsTests {
    /// Every way a secret could be written that a reader would still recognise.
    static func forms(_ secret: String) -> [String] {
        let bytes = Data(secret.utf8)
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        return [secret, bytes.base64EncodedString(), hex, hex.uppercased()]
    }

    @Test func noKeyOrSecretInLogsTablesOrReports() async throws {
        let venues = try SimulatedVenues(venues: 2, seed: 21)
        defer { venues.stop() }
        let url = try TestDatabase.migrated()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-secrets-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let job = dir.appendingPathComponent("job.toml").path
        try venues.jobTOML.write(toFile: job, atomically: true, encoding: .utf8)
        var environment = venues.environment
        environment["BALLAST_DATABASE_URL"] = url
        let out = dir.appendingPathComponent("Output").path
        let run = try BallastBinary.run(
            ["run", "--job", job, "--out", out, "--log-level", "trace"], environment: environment)
        #expect(run.status == 0, "\(run.stderr.suffix(2000))")
        #expect(
            run.stderr.contains(" debug ") && run.stderr.contains("run finished"),
            "the whole job, logged at trace level")

        let secrets = venues.environment.values.sorted()
        #expect(secrets.count == 4)
        // The database, whole.
        let dump = Process()
        dump.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        dump.arguments = ["pg_dump", "--no-owner", "--data-only", url]
        let pipe = Pipe()
        dump.standardOutput = pipe
        try dump.run()
        let tables = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        dump.waitUntilExit()
        #expect(dump.terminationStatus == 0)
        #expect(tables.contains("COPY public.http_attempts"), "the dump holds the request log")
        // Every report file, the workbook's zipped XML unpacked.
        var files = ""
        let found = FileManager.default.enumerator(atPath: out)
        while let name = found?.nextObject() as? String {
            let path = out + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                continue
            }
            if name.hasSuffix(".xlsx") {
                files += String(
                    decoding: try Openpyxl.runPython(
                        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\n"
                            + "print(''.join(z.read(n).decode('utf-8', 'replace') for n in z.namelist()))",
                        arguments: [path]), as: UTF8.self)
            } else {
                files += String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
            }
        }
        #expect(files.contains("Ballast's fills"), "the report was read")
        // The corpora are real: the account ids the secrets belong to are all over them.
        #expect(tables.contains("sim-a-main") && files.contains("sim-a-main") && run.stderr.contains("sim-a"))
        for secret in secrets {
            for form in Self.forms(secret) {
                #expect(!run.stderr.contains(form) && !run.stdout.contains(form), "a log line holds \(form)")
                #expect(!tables.contains(form), "the database holds \(form)")
                #expect(!files.contains(form), "a report file holds \(form)")
            }
        }
    }
}
