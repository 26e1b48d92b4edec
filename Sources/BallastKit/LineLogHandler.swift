public import Foundation
public import Logging
import Postgres

/// How log lines look on standard error.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-11-25T06:17:00.123Z info  pull: message key=value` for people.
    case text
    /// One JSON object per line for log collectors.
    case json
}

/// Writes one line per log event to standard error, as text or JSON.
///
/// Metadata values are printed as given; callers never put secrets in them.
public struct LineLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let format: LogFormat
    private let output: LineOutput

    /// A handler for `label` at `level` in `format`.
    public init(label: String, level: Logger.Level, format: LogFormat, output: LineOutput = .standardError) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let time = Timestamp.iso8601(Date())
        let line: String
        switch format {
        case .text:
            let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let level = event.level.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)
            line = "\(time) \(level) \(label): \(event.message)" + (fields.isEmpty ? "" : " " + fields)
        case .json:
            var object: [String: Any] = [
                "ts": time, "level": event.level.rawValue, "logger": label,
                "msg": event.message.description,
            ]
            for (key, value) in merged { object[key] = Self.json(value) }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        output.write(line + "\n")
    }

    private static func json(_ value: Logger.MetadataValue) -> Any {
        switch value {
        case .string(let s): s
        case .stringConvertible(let c): c.description
        case .array(let values): values.map(json)
        case .dictionary(let dict): dict.mapValues(json)
        }
    }
}

/// A thread-safe sink for whole lines; on a terminal it also keeps one status line (a progress
/// bar) below them, redrawn after each line.
public final class LineOutput: @unchecked Sendable {
    private let handle: FileHandle
    private let lock = NSLock()
    /// The status line shown below the log lines (guarded by `lock`).
    private var status: String?
    /// The handle is a terminal: a status line can be drawn and erased.
    public let isTerminal: Bool

    /// Lines go to `handle`.
    public init(handle: FileHandle) {
        self.handle = handle
        isTerminal = isatty(handle.fileDescriptor) == 1
    }

    /// Standard error.
    public static let standardError = LineOutput(handle: .standardError)

    /// Writes `line` in one piece (above the status line, if one is shown).
    public func write(_ line: String) {
        lock.withLock {
            guard let status else { return handle.write(Data(line.utf8)) }
            handle.write(Data(("\r\u{1B}[K" + line + status).utf8))
        }
    }

    /// Shows `text` as the status line, replacing the last one; nil erases it. Only on a terminal.
    public func setStatus(_ text: String?) {
        guard isTerminal else { return }
        lock.withLock {
            status = text
            handle.write(Data(("\r\u{1B}[K" + (text ?? "")).utf8))
        }
    }
}
