import Foundation

/// SQL text plus its bind values, built so that values can only travel as binds.
///
/// Write queries as string literals; every interpolated value becomes the next
/// `$n` parameter:
///
///     let q: Query = "SELECT id FROM fills WHERE venue_id = \(venue) AND qty > \(minimum)"
///     // sql: "SELECT id FROM fills WHERE venue_id = $1 AND qty > $2", binds: [venue, minimum]
///
/// SQL assembled at run time (a migration file, a report definition's query)
/// must say so with `Query(unsafeSQL:)`.
public struct Query: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    /// The SQL text with `$n` placeholders.
    public private(set) var sql: String
    /// The bind values in placeholder order, as PostgreSQL text; nil is NULL.
    public private(set) var binds: [String?]

    /// A query with no parameters from a string literal.
    public init(stringLiteral value: String) {
        self.sql = value
        self.binds = []
    }

    /// A query whose interpolated values become binds.
    public init(stringInterpolation: StringInterpolation) {
        self.sql = stringInterpolation.sql
        self.binds = stringInterpolation.binds
    }

    /// SQL text that was not written as a literal: the caller vouches that no
    /// untrusted value was spliced into it. Values still go in `binds`.
    public init(unsafeSQL sql: String, binds: [String?] = []) {
        self.sql = sql
        self.binds = binds
    }

    /// Appends another query, renumbering its placeholders after this one's.
    public mutating func append(_ other: Query) {
        var renumbered = other.sql
        if !other.binds.isEmpty {
            // Rewrite $k (longest first so $12 is not read as $1) to $(k + offset).
            for k in stride(from: other.binds.count, through: 1, by: -1) {
                renumbered = renumbered.replacingPlaceholder(k, with: k + binds.count)
            }
        }
        sql += renumbered
        binds += other.binds
    }

    public var description: String { sql }

    /// Collects literal SQL and turns each interpolated value into a bind.
    public struct StringInterpolation: StringInterpolationProtocol {
        var sql = ""
        var binds: [String?] = []

        public init(literalCapacity: Int, interpolationCount: Int) {
            sql.reserveCapacity(literalCapacity + interpolationCount * 3)
        }

        public mutating func appendLiteral(_ literal: String) {
            sql += literal
        }

        /// A value: sent as the next `$n` bind, never spliced into the text.
        public mutating func appendInterpolation(_ value: some PostgresEncodable) {
            binds.append(value.postgresText)
            sql += "$\(binds.count)"
        }

        /// An optional value: NULL when nil, otherwise the next `$n` bind.
        public mutating func appendInterpolation<Value: PostgresEncodable>(_ value: Value?) {
            binds.append(value?.postgresText ?? nil)
            sql += "$\(binds.count)"
        }

        /// An identifier (table or column name), double-quoted and escaped.
        public mutating func appendInterpolation(identifier: String) {
            sql += "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }

        /// Another query, its binds renumbered after the ones so far.
        public mutating func appendInterpolation(_ fragment: Query) {
            var query = Query(unsafeSQL: sql, binds: binds)
            query.append(fragment)
            sql = query.sql
            binds = query.binds
        }
    }
}

extension String {
    /// Replaces the placeholder `$k` (not `$k0`, `$k1`…) with `$replacement`.
    fileprivate func replacingPlaceholder(_ k: Int, with replacement: Int) -> String {
        let token = "$\(k)"
        var result = ""
        var rest = self[...]
        while let range = rest.range(of: token) {
            result += rest[..<range.lowerBound]
            let after = rest[range.upperBound...]
            if let next = after.first, next.isNumber {
                result += token
            } else {
                result += "$\(replacement)"
            }
            rest = after
        }
        result += rest
        return result
    }
}
