import BallastKit
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PostgreSQL cluster of its own, for campaigns that crash, restart or freeze the
/// server under a running `ballast execute` (a shared cluster must never be treated so).
///
/// `initdb` under `/tmp` (as the `postgres` user when running as root: initdb refuses root),
/// a free port on 127.0.0.1, a private socket directory; `destroy()` stops it and removes it.
public final class PrivateCluster: Sendable {
    /// `postgresql://ballast@127.0.0.1:PORT/ballast`.
    public let url: String
    let directory: String
    let port: Int
    let binaries: String
    let options: String

    /// Creates and starts a cluster with these server settings (`name=value`).
    public init(settings: [String] = ["fsync=off", "full_page_writes=off"]) throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        let newest = versions.sorted(by: { $0.compare($1, options: .numeric) == .orderedAscending }).last
        guard let bin = newest.map({ "/usr/lib/postgresql/\($0)/bin" }),
            FileManager.default.isExecutableFile(atPath: bin + "/initdb")
        else { throw BallastError.invalidInput("PostgreSQL server binaries not found (install postgresql)") }
        binaries = bin
        directory = "/tmp/ballast-cluster-\(UUID().uuidString.prefix(8).lowercased())"
        port = try Self.freePort()
        options =
            "-k \(directory) -c listen_addresses=127.0.0.1 -p \(port) -c max_connections=100 "
            + settings.map { "-c \($0)" }.joined(separator: " ")
        url = "postgresql://ballast@127.0.0.1:\(port)/ballast"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        if getuid() == 0 { try Self.run("/bin/chown", ["postgres:postgres", directory]) }
        try Self.asOwner(
            binaries + "/initdb", ["-D", directory + "/data", "-U", "ballast", "-A", "trust", "-E", "UTF8"])
        try start()
        try Self.run(
            binaries + "/psql",
            [
                "-q", "-h", "127.0.0.1", "-p", "\(port)", "-U", "ballast", "-d", "postgres",
                "-c", "CREATE DATABASE ballast",
            ])
    }

    /// Starts the server (again, after `crash()`), waiting until it accepts connections.
    public func start() throws {
        try Self.asOwner(
            binaries + "/pg_ctl",
            [
                "-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "30",
                "-o", options, "start",
            ])
    }

    /// Crashes the server: `pg_ctl stop -m immediate` (no checkpoint; what was not flushed is lost).
    public func crash() throws {
        try Self.asOwner(binaries + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "stop"])
    }

    /// The server's processes: the postmaster and its children.
    func processes() -> [pid_t] {
        guard let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
            let first = text.split(separator: "\n").first, let postmaster = pid_t(first)
        else { return [] }
        var out = [postmaster]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry),
                let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 2, pid_t(fields[1]) == postmaster { out.append(pid) }
        }
        return out
    }

    /// Freezes every server process (SIGSTOP): connections stay open, nothing answers.
    public func freeze() { for pid in processes() { kill(pid, SIGSTOP) } }

    /// Lets frozen processes run again.
    public func thaw() { for pid in processes() { kill(pid, SIGCONT) } }

    /// Stops the server and removes its directory.
    public func destroy() {
        thaw()
        try? Self.asOwner(binaries + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func asOwner(_ tool: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            try run("/usr/sbin/runuser", ["-u", "postgres", "--", tool] + arguments)
        } else {
            try run(tool, arguments)
        }
    }

    /// Runs `tool` and waits for it. Spawned and reaped here rather than through `Process`: the
    /// server that `pg_ctl start` leaves running inherits what the parent had open, and
    /// `Process` would wait for it as well. Errors go to a file read after a failure.
    private static func run(_ tool: String, _ arguments: [String]) throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("ballast-cluster-\(UUID()).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, log, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([tool] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, tool, &actions, nil, argv, environ)
        guard spawned == 0 else { throw BallastError.internalFailure("cannot run \(tool): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let message = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw BallastError.internalFailure(
                "\((tool as NSString).lastPathComponent) failed (status \(status)): \(message)")
        }
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw BallastError.internalFailure("socket() failed") }
        defer { Glibc.close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else { throw BallastError.internalFailure("no free port on 127.0.0.1") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
