package import Postgres

/// Turns a template's SQL with named parameters (`:from`, `:to`, `:run`, `:chain`) into
/// a query whose values travel as binds.
package enum ReportQuery {
    /// The names a template may use.
    /// `:chain` is the decision chain's head as verified before the report (`HASH@LENGTH`).
    static let known: Set<String> = ["from", "to", "run", "chain"]

    /// Replaces each `:name` (not `::cast`) with a `$n` bind of `parameters[name]`, or, given
    /// `literal` (for SQL that takes no binds, such as COPY), with the value quoted by it.
    package static func bind(
        _ sql: String, parameters: [String: String?], source: String, literal: ((String?) throws -> String)? = nil
    ) throws -> Query {
        var out = ""
        var binds: [String?] = []
        var positions: [String: Int] = [:]
        let chars = Array(sql)
        var i = 0
        var inString = false
        while i < chars.count {
            let ch = chars[i]
            if ch == "'" { inString.toggle() }
            if !inString, ch == ":", i + 1 < chars.count, chars[i + 1].isLetter, i == 0 || chars[i - 1] != ":" {
                var j = i + 1
                while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
                let name = String(chars[(i + 1)..<j])
                guard known.contains(name) else {
                    throw BallastError.invalidInput(
                        "\(source): field query: unknown parameter ':\(name)' (known: :from, :to, :run, :chain)")
                }
                if let literal {
                    out += try literal(parameters[name] ?? nil)
                } else {
                    if positions[name] == nil {
                        binds.append(parameters[name] ?? nil)
                        positions[name] = binds.count
                    }
                    out += "$\(positions[name]!)"
                }
                i = j
                continue
            }
            out.append(ch)
            i += 1
        }
        return Query(unsafeSQL: out, binds: binds)
    }
}
