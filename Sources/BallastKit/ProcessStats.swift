import Foundation

/// Figures about this process, for benchmarks and progress lines.
public enum ProcessStats {
    /// Peak resident set size in bytes (`VmHWM`), or nil where /proc is absent.
    public static func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let kib = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Int($0) }
            return kib.map { $0 * 1024 }
        }
        return nil
    }

    /// CPU time the calling thread has used, in seconds.
    public static func threadCPUSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// The calling thread's CPU time since `start` (a `threadCPUSeconds()` reading), e.g. "1.234 s".
    public static func threadCPU(since start: Double) -> String {
        String(format: "%.3f s", threadCPUSeconds() - start)
    }

    /// `bytes` as MiB with one decimal, e.g. "38.2 MiB".
    public static func mebibytes(_ bytes: Int?) -> String {
        guard let bytes else { return "n/a" }
        return String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}
