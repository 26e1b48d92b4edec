public import Foundation
public import Logging

/// Progress of a long step: a bar on standard error's status line when it is a terminal, else a
/// log line every ten seconds (so a scheduler's log shows the step is alive, without flooding it).
public struct Progress {
    private let label: String
    private let total: Int?
    private let unit: String
    private let logger: Logger
    private let output: LineOutput
    private let started = ContinuousClock().now
    private var lastDrawn: ContinuousClock.Instant
    private var lastLogged: ContinuousClock.Instant
    private var logged = false
    /// How far it has got.
    public private(set) var done = 0

    /// Progress of `label` over `total` items (nil: unknown), counted in `unit`.
    public init(_ label: String, total: Int?, unit: String, logger: Logger, output: LineOutput = .standardError) {
        self.label = label
        self.total = total
        self.unit = unit
        self.logger = logger
        self.output = output
        lastDrawn = started
        lastLogged = started
    }

    /// Counts `count` more items done.
    public mutating func advance(by count: Int = 1) {
        done += count
        let now = ContinuousClock().now
        if output.isTerminal {
            guard now - lastDrawn >= .milliseconds(100) || done == total else { return }
            lastDrawn = now
            output.setStatus(line(at: now, bar: true))
        } else if now - lastLogged >= .seconds(10) {
            lastLogged = now
            logged = true
            logger.info("\(line(at: now, bar: false))")
        }
    }

    /// Erases the bar; in a log that showed progress, says where it ended.
    public mutating func finish() {
        if output.isTerminal {
            output.setStatus(nil)
        } else if logged {
            logger.info("\(line(at: ContinuousClock().now, bar: false)), done")
        }
    }

    /// `label [#######.......]  45%  1,234/2,700 unit  56/s`, or without a total `label  1,234 unit  56/s`.
    func line(at now: ContinuousClock.Instant, bar: Bool) -> String {
        let seconds = max((now - started).seconds, 0.001)
        let rate = Double(done) / seconds
        let rateText = rate >= 10 ? Int(rate).formatted() : String(format: "%.1f", rate)
        guard let total, total > 0 else {
            return "\(label): \(done.formatted()) \(unit), \(rateText)/s"
        }
        let fraction = min(Double(done) / Double(total), 1)
        let percent = Int((fraction * 100).rounded(.down))
        let counts = "\(done.formatted())/\(total.formatted()) \(unit), \(rateText)/s"
        guard bar else { return "\(label): \(percent)% (\(counts))" }
        let width = 24
        let filled = Int((fraction * Double(width)).rounded(.down))
        return "\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            + "] \(percent)% \(counts)"
    }
}
