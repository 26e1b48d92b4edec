// Ballast's use cases: pull, reconcile, measure, propose, execute, report, run.
//
// Invariants:
// - Every use case takes its connections, transports, clock and logger from
//   the caller; nothing here reads the process environment by itself except
//   through `Settings`.
// - Every write that must not be half-done happens in one transaction.
// - Secrets (API keys and secrets) never reach a log line, the database, a
//   report or an error message.
public import Postgres

/// What went wrong in a use case, phrased for the operator.
public enum BallastError: Error, CustomStringConvertible {
    /// Bad configuration, a bad file, bad arguments: fix the input and rerun.
    case invalidInput(String)
    /// The database failed or refused.
    case database(String, PostgresError?)
    /// A venue (or the network to it) failed.
    case venue(String)
    /// Another run holds the lock this one needs.
    case busy(String)
    /// Something that should not happen.
    case internalFailure(String)
    /// The decision records' hash chain does not verify (a record was altered, removed or rewritten).
    case chainBroken(String)

    public var description: String {
        switch self {
        case .invalidInput(let message): message
        case .database(let message, _): message
        case .venue(let message): message
        case .busy(let message): message
        case .internalFailure(let message): "internal error: \(message)"
        case .chainBroken(let message): message
        }
    }
}
