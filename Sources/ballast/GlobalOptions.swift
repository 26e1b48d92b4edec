import ArgumentParser
import BallastKit
import Foundation
import Logging
import Postgres

/// Options every subcommand accepts.
struct GlobalOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "PostgreSQL URI or conninfo (default: $BALLAST_DATABASE_URL, else libpq's PG* variables).",
            valueName: "conninfo"))
    var database: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(name: .long, help: "Log format: text or json (one JSON object per line).")
    var logFormat: String = "text"

    /// The conninfo to use: the option, then the environment, then libpq's defaults.
    var conninfo: String {
        database ?? ProcessInfo.processInfo.environment["BALLAST_DATABASE_URL"] ?? ""
    }

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError(
                "--log-level must be one of: \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard LogFormat(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format must be text or json")
        }
    }

    /// Sets up logging once and returns the root logger.
    func makeLogger(_ label: String) -> Logger {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = LogFormat(rawValue: logFormat) ?? .text
        LoggingBootstrap.once(level: level, format: format)
        return Logger(label: label)
    }

    /// Opens a database connection with the chosen settings.
    func connect(_ logger: Logger) throws -> Connection {
        do {
            return try Connection(conninfo: conninfo, logger: logger)
        } catch {
            throw BallastError.database(
                "\(error.message)\nSet --database or BALLAST_DATABASE_URL (e.g. postgresql://user@127.0.0.1:5432/ballast).",
                error)
        }
    }

    /// Runs `body`, turning its errors into a message on standard error and an exit code.
    func run(_ label: String, _ body: (Logger) async throws -> Void) async throws {
        let logger = makeLogger(label)
        do {
            try await body(logger)
        } catch let error as BallastError {
            logger.error("\(error.description)")
            throw ExitCode(error.exitCode)
        } catch let error as PostgresError {
            logger.error("\(error.description)")
            throw ExitCode(error.isUnavailable ? 69 : 1)
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch {
            logger.error("\(String(describing: error))")
            throw ExitCode(1)
        }
    }
}

/// Installs the log handler the first time it is asked.
enum LoggingBootstrap {
    nonisolated(unsafe) private static var done = false

    static func once(level: Logger.Level, format: LogFormat) {
        guard !done else { return }
        done = true
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, level: level, format: format) }
    }
}

extension BallastError {
    /// The process exit code for this error (sysexits.h where one fits).
    var exitCode: Int32 {
        switch self {
        case .invalidInput: 65
        case .database(_, let underlying): underlying?.isUnavailable == true ? 69 : 1
        case .venue: 69
        case .busy: 75
        case .internalFailure: 70
        case .chainBroken: 2
        }
    }
}
