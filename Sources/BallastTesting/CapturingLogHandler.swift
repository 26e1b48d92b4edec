import Foundation
public import Logging

/// Log events a test can look at afterwards.
public final class LogCapture: @unchecked Sendable {
    // Safe to share: every access to `events` holds `lock`.
    private let lock = NSLock()
    private var stored: [(level: Logger.Level, message: String, metadata: Logger.Metadata)] = []

    public init() {}

    /// A logger whose events land here.
    public func logger(_ label: String = "test", level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: label) { _ in CapturingLogHandler(capture: self) }
        logger.logLevel = level
        return logger
    }

    /// The messages captured so far.
    public var messages: [String] { lock.withLock { stored.map(\.message) } }

    /// Every captured line: message plus metadata, for secret scans.
    public var everything: String {
        lock.withLock { stored.map { "\($0.level) \($0.message) \($0.metadata)" }.joined(separator: "\n") }
    }

    func append(_ level: Logger.Level, _ message: String, _ metadata: Logger.Metadata) {
        lock.withLock { stored.append((level, message, metadata)) }
    }
}

struct CapturingLogHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        capture.append(event.level, event.message.description, merged)
    }
}
