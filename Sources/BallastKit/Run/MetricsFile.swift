public import Foundation
import Glibc

/// The Prometheus textfile a run leaves for node_exporter's textfile collector
/// (`<out>/metrics/ballast.prom`): one series per job and label set, each run replacing its own
/// series and keeping every other job's. Written to a temporary file and renamed, under an
/// exclusive `flock` on a lock file beside it, so a scraper never reads half a file and two runs
/// finishing together do not drop each other's series.
public struct MetricsFile {
    /// One sample: a metric name, its labels (in order) and its value.
    public struct Sample: Sendable, Equatable {
        public var name: String
        public var labels: [(String, String)]
        public var value: Double

        public init(_ name: String, _ labels: [(String, String)], _ value: Double) {
            self.name = name
            self.labels = labels
            self.value = value
        }

        public static func == (a: Sample, b: Sample) -> Bool {
            a.name == b.name && a.value == b.value && a.labels.elementsEqual(b.labels) { $0 == $1 }
        }

        /// The series this sample belongs to, as it is written: `name{label="value",…}`.
        var series: String {
            labels.isEmpty
                ? name : name + "{" + labels.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",") + "}"
        }

        /// A label value with backslash, double quote and newline escaped (the text format's rule).
        static func escaped(_ value: String) -> String {
            value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
        }
    }

    /// What each metric means (its HELP line); every metric Ballast writes is a gauge.
    static let help: [String: String] = [
        "ballast_last_success_timestamp_seconds": "When the job last finished without error (Unix time).",
        "ballast_last_failure_timestamp_seconds": "When the job last ended with an error (Unix time).",
        "ballast_last_run_success": "1 when the job's last run finished without error, else 0.",
        "ballast_last_run_step_duration_seconds": "How long each step of the job's last run took.",
        "ballast_last_run_orders": "Orders measured in the job's last run.",
        "ballast_last_run_filled_notional": "Notional filled by those orders, in each quote currency.",
        "ballast_last_run_slippage_bps": "Arrival slippage of those orders, weighted by filled notional (bps).",
        "ballast_last_run_reconciliation_breaks": "Reconciliation breaks the job's last run recorded.",
        "ballast_last_run_deferred_orders": "Parent trades the job's last run deferred.",
        "ballast_last_run_venue_errors": "HTTP attempts of the job's last run that did not end ok, per venue.",
    ]

    public let path: URL

    /// The file under `outputRoot` (`<out>/metrics/ballast.prom`).
    public init(outputRoot: URL) {
        path = outputRoot.appendingPathComponent("metrics", isDirectory: true)
            .appendingPathComponent("ballast.prom")
    }

    /// Replaces the series of `samples` in the file (creating it), keeping every other series.
    public func update(_ samples: [Sample]) throws {
        let folder = path.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lockPath = folder.appendingPathComponent(".ballast.prom.lock").path
        let descriptor = open(lockPath, O_CREAT | O_RDWR, 0o644)
        guard descriptor >= 0 else {
            throw BallastError.invalidInput("cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX) == 0 else {
            throw BallastError.invalidInput("cannot lock \(lockPath): \(String(cString: strerror(errno)))")
        }
        defer { flock(descriptor, LOCK_UN) }
        var series = Self.read(try? String(contentsOf: path, encoding: .utf8))
        for sample in samples {
            series[sample.name, default: [:]][sample.series] = Self.format(sample.value)
        }
        // Written to a temporary file and renamed (Foundation's atomic write).
        try Data(Self.render(series).utf8).write(to: path, options: .atomic)
    }

    /// Sample lines of a file this type wrote, by metric name, then series.
    static func read(_ text: String?) -> [String: [String: String]] {
        var series: [String: [String: String]] = [:]
        for line in (text ?? "").split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            let key = String(line[..<space])
            let name = String(key.prefix { $0 != "{" })
            series[name, default: [:]][key] = String(line[line.index(after: space)...])
        }
        return series
    }

    /// The file's text: each metric's HELP and TYPE, then its series in order.
    static func render(_ series: [String: [String: String]]) -> String {
        var text = ""
        for name in series.keys.sorted() {
            if let help = help[name] {
                text += "# HELP \(name) \(help)\n# TYPE \(name) gauge\n"
            }
            for key in series[name]!.keys.sorted() { text += "\(key) \(series[name]![key]!)\n" }
        }
        return text
    }

    /// A value as the text format writes it (integers without a fraction).
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
