public import Foundation

/// Ends of runs that could not be written to the database, kept on this host until a later run
/// writes them: one JSON file per run in `$BALLAST_STATE_DIR/unrecorded-ends/` (default
/// `$XDG_STATE_HOME/ballast`, else `~/.local/state/ballast`).
///
/// A run whose database fails under it knows why it stopped, but cannot say so where runs are
/// listed. It leaves its error here; the next run on the host (`JobRun.markInterrupted`) writes
/// it into the run's row and removes the file. Runs on other hosts see only the generic reason.
public enum UnrecordedEnds {
    /// What a run could not record.
    public struct End: Codable, Sendable, Equatable {
        public var runId: String
        public var finishedAt: Date
        public var error: String
    }

    /// The spool folder.
    public static var folder: URL {
        let environment = ProcessInfo.processInfo.environment
        let base: URL
        if let explicit = environment["BALLAST_STATE_DIR"], !explicit.isEmpty {
            base = URL(fileURLWithPath: explicit, isDirectory: true)
        } else if let state = environment["XDG_STATE_HOME"], !state.isEmpty {
            base = URL(fileURLWithPath: state, isDirectory: true).appendingPathComponent("ballast")
        } else {
            base = FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".local/state/ballast")
        }
        return base.appendingPathComponent("unrecorded-ends", isDirectory: true)
    }

    /// Keeps `end`; returns the file's path. Written whole (temporary file, then renamed).
    @discardableResult
    public static func keep(_ end: End) throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let file = folder.appendingPathComponent("\(end.runId).json")
        try encoder.encode(end).write(to: file, options: .atomic)
        return file.path
    }

    /// Every end kept here, with its file, oldest run first; unreadable files are skipped (and left).
    public static func pending() -> [(end: End, file: URL)] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return [] }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return names.filter { $0.hasSuffix(".json") }.sorted().compactMap { name in
            let file = folder.appendingPathComponent(name)
            guard let data = try? Data(contentsOf: file), let end = try? decoder.decode(End.self, from: data) else {
                return nil
            }
            return (end, file)
        }
    }

    /// Forgets a kept end (once it is on record).
    public static func forget(_ file: URL) { try? FileManager.default.removeItem(at: file) }
}
