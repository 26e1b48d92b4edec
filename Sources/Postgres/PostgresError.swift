// PostgreSQL over libpq.
//
// Invariants:
// - This is the only module that imports libpq; no libpq type appears in a
//   public signature.
// - Every value reaches the server as a bind parameter (`$n`); SQL text comes
//   only from string literals or the explicitly named `Query(unsafeSQL:)`.
// - Every libpq return code is checked where the call is made; failures become
//   a `PostgresError` carrying the server's SQLSTATE, message and the SQL text
//   (never the bound values).
// - Sessions run in UTC with ISO dates, so timestamps decode the same everywhere.

import Foundation

/// A failure reported by libpq or the PostgreSQL server.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is, named from its SQLSTATE where one exists.
    public enum Code: Sendable, Equatable {
        /// Could not connect or the connection broke.
        case connectionFailed
        /// The server did not answer within the connection's deadline (stalled, frozen, cut
        /// off); the connection was closed.
        case deadlineExceeded
        /// 23505: the row already exists ("already done" for idempotent inserts).
        case uniqueViolation
        /// 42710: an object (a role, say) of that name already exists.
        case duplicateObject
        /// 23503.
        case foreignKeyViolation
        /// 23502.
        case notNullViolation
        /// 23514.
        case checkViolation
        /// 40001: retry the transaction.
        case serializationFailure
        /// 40P01: retry the transaction.
        case deadlockDetected
        /// 55P03: `NOWAIT` or `lock_timeout` gave up.
        case lockNotAvailable
        /// 57014: statement timeout or cancel.
        case queryCanceled
        /// 42P01.
        case undefinedTable
        /// 42601.
        case syntaxError
        /// 42501.
        case insufficientPrivilege
        /// P0001: a `RAISE EXCEPTION` in a function or trigger.
        case raisedException
        /// 22P02 and friends: a value the column's type cannot take.
        case invalidValue
        /// A column was NULL where a value was required.
        case unexpectedNull
        /// A column's text could not be decoded as the requested type.
        case decodingFailed
        /// A named column is not in the result.
        case noSuchColumn
        /// The connection is closed or in the wrong state for the call.
        case misuse
        /// Any other SQLSTATE.
        case other(String)

        /// Maps a five-character SQLSTATE to its named case.
        public init(sqlState: String) {
            switch sqlState {
            case "23505": self = .uniqueViolation
            case "23503": self = .foreignKeyViolation
            case "42710": self = .duplicateObject
            case "23502": self = .notNullViolation
            case "23514": self = .checkViolation
            case "40001": self = .serializationFailure
            case "40P01": self = .deadlockDetected
            case "55P03": self = .lockNotAvailable
            case "57014": self = .queryCanceled
            case "42P01": self = .undefinedTable
            case "42601": self = .syntaxError
            case "42501": self = .insufficientPrivilege
            case "P0001": self = .raisedException
            case "22P02", "22003", "22007", "22008", "22023": self = .invalidValue
            case let s where s.hasPrefix("08"): self = .connectionFailed
            default: self = .other(sqlState)
            }
        }
    }

    /// The named kind of failure.
    public let code: Code
    /// The server's SQLSTATE, when the server produced the error.
    public let sqlState: String?
    /// The primary message.
    public let message: String
    /// The server's DETAIL line, if any.
    public let detail: String?
    /// The SQL text that failed (without bound values), if any.
    public let query: String?

    /// Creates an error.
    public init(code: Code, sqlState: String? = nil, message: String, detail: String? = nil, query: String? = nil) {
        self.code = code
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.query = query
    }

    /// The database could not be reached or did not answer: a service is unavailable (exit 69).
    public var isUnavailable: Bool { code == .connectionFailed || code == .deadlineExceeded }

    /// True for failures where running the same transaction again may succeed.
    public var isTransient: Bool {
        code == .serializationFailure || code == .deadlockDetected || code == .lockNotAvailable
    }

    public var description: String {
        var text = "PostgreSQL: \(message)"
        if let sqlState { text += " [SQLSTATE \(sqlState)]" }
        if let detail { text += " — \(detail)" }
        if let query {
            let oneLine = query.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
                .joined(separator: " ")
            text += " (in: \(oneLine.prefix(160)))"
        }
        return text
    }
}
