import BallastKit
import BallastLab
import BallastTesting
import Foundation
import Testing

/// Issue 14 §6: the Prometheus textfile a run leaves, read by prometheus_client's own parser.
@Suite(.serialized) struct MetricsFileTests {
    /// Every sample of the file as prometheus_client parses it: "name{k=v,…}" (labels sorted) → value.
    static func parse(_ path: String) throws -> [String: Double] {
        let script = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for family in text_string_to_metric_families(open(sys.argv[1]).read()):
                assert family.type == "gauge", family.name
                assert family.documentation, family.name
                for s in family.samples:
                    labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                    out[f"{s.name}{{{labels}}}"] = s.value
            json.dump(out, sys.stdout)
            """
        return try JSONDecoder().decode(
            [String: Double].self, from: Openpyxl.runPython(script, arguments: [path]))
    }

    @Test func aRunLeavesItsFiguresAndKeepsOtherJobsAndItsLastSuccess() async throws {
        let venues = try SimulatedVenues(venues: 3, seed: 23)
        defer { venues.stop() }
        let url = try TestDatabase.migrated()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ballast-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("bad"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let demo = folder.appendingPathComponent("demo.toml").path
        let other = folder.appendingPathComponent("other.toml").path
        let broken = folder.appendingPathComponent("bad/demo.toml").path
        try venues.jobTOML.write(toFile: demo, atomically: true, encoding: .utf8)
        try venues.jobTOML.replacingOccurrences(of: "id = \"demo\"", with: "id = \"other\"")
            .write(toFile: other, atomically: true, encoding: .utf8)
        // The same job name, with an asset no venue lists: it fails at the propose step.
        try venues.jobTOML.replacingOccurrences(of: "SOL = \"0.10\"", with: "XYZ = \"0.10\"")
            .write(toFile: broken, atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("out")
        let environment = venues.environment.merging(["BALLAST_DATABASE_URL": url]) { $1 }
        func run(_ job: String, _ extra: [String] = []) throws -> BallastBinary.Outcome {
            try BallastBinary.run(["run", "--job", job, "--out", out.path] + extra, environment: environment)
        }
        let prom = out.appendingPathComponent("metrics/ballast.prom").path

        let started = Date().timeIntervalSince1970
        let first = try run(demo)
        #expect(first.status == 0, "\(first.stderr.suffix(1500))")
        var samples = try Self.parse(prom)
        let success = try #require(samples["ballast_last_success_timestamp_seconds{job=demo,trigger=nightly}"])
        #expect(success >= started.rounded(.down) - 1 && success <= Date().timeIntervalSince1970 + 1)
        #expect(samples["ballast_last_run_success{job=demo,trigger=nightly}"] == 1)
        for step in RunJob.steps(.nightly) {
            let seconds = samples["ballast_last_run_step_duration_seconds{job=demo,step=\(step),trigger=nightly}"]
            #expect(seconds.map { $0 >= 0 } == true, "step \(step): \(String(describing: seconds))")
        }
        let connection = try TestDatabase.connect(url)
        defer { connection.close() }
        let runID = try connection.query(
            "SELECT id FROM job_runs WHERE command = 'run' ORDER BY started_at DESC LIMIT 1")[
                0
            ].decode("id", as: String.self)
        let measured = try connection.query(
            """
            SELECT coalesce(sum(filled_notional), 0)::float8 AS notional, coalesce(sum(orders), 0)::float8 AS orders
            FROM route_measures WHERE run_id = \(runID)
            """)[0]
        let notional: Double = try measured.decode("notional")
        #expect(notional > 0)
        #expect(samples["ballast_last_run_filled_notional{job=demo,quote=USDT,trigger=nightly}"] == notional)
        #expect(
            samples["ballast_last_run_orders{job=demo,trigger=nightly}"]
                == (try measured.decode("orders", as: Double.self)))
        let breaks: Double = try connection.query(
            "SELECT count(*)::float8 AS n FROM reconciliation_breaks WHERE run_id = \(runID)")[0].decode("n")
        #expect(samples["ballast_last_run_reconciliation_breaks{job=demo,trigger=nightly}"] == breaks)
        #expect(
            samples.keys.contains {
                $0.hasPrefix("ballast_last_run_venue_errors{job=demo,trigger=nightly,venue=sim-a}")
            })

        // Another job's run adds its own series beside the first job's.
        #expect(try run(other).status == 0)
        samples = try Self.parse(prom)
        #expect(samples["ballast_last_run_success{job=other,trigger=nightly}"] == 1)
        #expect(samples["ballast_last_success_timestamp_seconds{job=demo,trigger=nightly}"] == success)

        // A drift check of the first job: series of its own trigger, the nightly's kept.
        let check = try run(demo, ["--trigger", "drift-check"])
        #expect(check.status == 0, "\(check.stderr.suffix(1500))")
        samples = try Self.parse(prom)
        #expect(samples["ballast_last_run_success{job=demo,trigger=drift-check}"] == 1)
        for step in RunJob.steps(.driftCheck) {
            #expect(samples["ballast_last_run_step_duration_seconds{job=demo,step=\(step),trigger=drift-check}"] != nil)
        }
        #expect(samples["ballast_last_success_timestamp_seconds{job=demo,trigger=nightly}"] == success)

        // A failing run of the first job: its failure time and status, its last success kept.
        let failed = try run(broken)
        #expect(failed.status != 0)
        samples = try Self.parse(prom)
        #expect(samples["ballast_last_run_success{job=demo,trigger=nightly}"] == 0)
        #expect(samples["ballast_last_failure_timestamp_seconds{job=demo,trigger=nightly}"] != nil)
        #expect(samples["ballast_last_success_timestamp_seconds{job=demo,trigger=nightly}"] == success)
        #expect(samples["ballast_last_run_success{job=other,trigger=nightly}"] == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("metrics").path)
        #expect(leftovers.filter { !$0.hasPrefix(".ballast.prom.lock") } == ["ballast.prom"], "\(leftovers)")
    }
}
