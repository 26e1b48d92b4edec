import Foundation
import TOMLKit

/// Reads TOML files into `Decodable` values with errors that name the file,
/// the line or the field, and the problem.
public enum TOMLFile {
    /// Decodes the TOML text of `path`.
    public static func decode<T: Decodable>(_ type: T.Type, path: String) throws -> T {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw BallastError.invalidInput("cannot read \(path): \(error.localizedDescription)")
        }
        return try decode(type, text: text, source: path)
    }

    /// Decodes TOML `text`; `source` names it in errors.
    public static func decode<T: Decodable>(_ type: T.Type, text: String, source: String) throws -> T {
        if let problem = outsideStrings(text) { throw BallastError.invalidInput("\(source):\(problem)") }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw BallastError.invalidInput(
                "\(source):\(error.source.begin.line):\(error.source.begin.column): \(error.description)")
        }
        do {
            return try TOMLDecoder().decode(type, from: table)
        } catch let error as DecodingError {
            let line = codingPath(of: error).flatMap { self.line(of: $0, in: text) }
            throw BallastError.invalidInput("\(source)\(line.map { ":\($0)" } ?? ""): \(describe(error))")
        } catch let error as BallastError {
            throw BallastError.invalidInput("\(source): \(error.description)")
        }
    }

    /// The first character TOML allows only inside a quoted string or a comment — anything not
    /// ASCII (a key like `accoünts`, a non-breaking space) and control characters other than
    /// tab — as "LINE:COLUMN: what", or nil. Checked before the text reaches the parser: the
    /// C++ parser under TOMLKit stops the whole process on an assertion for some of these
    /// instead of reporting an error (found by `ballast bench fuzz`).
    static func outsideStrings(_ text: String) -> String? {
        enum State { case plain, basic, literal, multiBasic, multiLiteral, comment }
        var state = State.plain
        let scalars = Array(text.unicodeScalars)
        var line = 1
        var column = 0
        var i = 0
        func starts(_ s: String) -> Bool {
            let needle = Array(s.unicodeScalars)
            return i + needle.count <= scalars.count && Array(scalars[i..<(i + needle.count)]) == needle
        }
        func isKeyStart(_ c: Unicode.Scalar) -> Bool {
            (c.isASCII && (Character(c).isLetter || Character(c).isNumber)) || c == "_" || c == "-" || c == "\""
                || c == "'"
        }
        /// Where the parser expects a key (a line's start, after `[` or `[[`, after `{` or `,` in an
        /// inline table, after a `.` in a key), the key must start right: the parser under TOMLKit
        /// asserts on anything else instead of reporting it.
        func keyAt(_ start: Int, after what: String) -> String? {
            var j = start
            while j < scalars.count, scalars[j] == " " || scalars[j] == "\t" { j += 1 }
            guard j < scalars.count else { return nil }
            let c = scalars[j]
            if isKeyStart(c) { return nil }
            if what == "{" && c == "}" { return nil }
            return
                "\(line): '\(Character(c))' where a key must start (after \(what)): a key is letters, digits, '_' and '-', or quoted"
        }
        /// Where the parser expects a value (after `=`, after `[` or `,` in an array), the value must
        /// start right; `]` may close an array there.
        func valueAt(_ start: Int, after what: String, closing: Bool) -> String? {
            var j = start
            while j < scalars.count,
                scalars[j] == " " || scalars[j] == "\t" || (closing && (scalars[j] == "\n" || scalars[j] == "\r"))
            {
                j += 1
            }
            guard j < scalars.count else { return "\(line): a value is missing after \(what)" }
            let c = scalars[j]
            if c == "#" && closing { return nil }
            let starts: Set<Unicode.Scalar> = ["\"", "'", "+", "-", "t", "f", "i", "n", "[", "{"]
            if starts.contains(c) || (c.isASCII && Character(c).isNumber) || (closing && c == "]") { return nil }
            return "\(line): '\(Character(c))' where a value must start (after \(what))"
        }
        var arrayDepth = 0
        var atLineStart = true
        var inlineDepth = 0
        var keyContext = true
        while i < scalars.count {
            let c = scalars[i]
            if state == .plain, atLineStart, c != " ", c != "\t" {
                atLineStart = false
                if c != "\n", c != "\r", c != "#", c != "[" {
                    if let problem = keyAt(i, after: "the start of a line") { return problem }
                    keyContext = true
                }
                if c == "[" {
                    let double = i + 1 < scalars.count && scalars[i + 1] == "["
                    if let problem = keyAt(i + (double ? 2 : 1), after: double ? "[[" : "[") { return problem }
                    keyContext = true
                }
            }
            if state == .plain, inlineDepth > 0 || keyContext {
                if c == "{" {
                    inlineDepth += 1
                    if let problem = keyAt(i + 1, after: "{") { return problem }
                    keyContext = true
                } else if c == "}" {
                    inlineDepth = max(0, inlineDepth - 1)
                } else if c == "," && inlineDepth > 0 && keyContext == false {
                    if let problem = keyAt(i + 1, after: ",") { return problem }
                    keyContext = true
                } else if c == "." && keyContext {
                    if let problem = keyAt(i + 1, after: ".") { return problem }
                } else if c == "=" {
                    keyContext = false
                    if let problem = valueAt(i + 1, after: "=", closing: false) { return problem }
                } else if c == "]" {
                    keyContext = false
                }
            } else if state == .plain {
                if c == "{" {
                    inlineDepth += 1
                    if let problem = keyAt(i + 1, after: "{") { return problem }
                    keyContext = true
                } else if c == "[" {
                    arrayDepth += 1
                    if let problem = valueAt(i + 1, after: "[", closing: true) { return problem }
                } else if c == "]" {
                    arrayDepth = max(0, arrayDepth - 1)
                } else if c == "," && arrayDepth > 0 && inlineDepth == 0 {
                    if let problem = valueAt(i + 1, after: ",", closing: true) { return problem }
                }
            }
            column += 1
            if c == "\n" {
                line += 1
                column = 0
                if state == .plain || state == .comment { atLineStart = inlineDepth == 0 && arrayDepth == 0 }
                if state == .comment || state == .basic || state == .literal { state = .plain }
                i += 1
                continue
            }
            switch state {
            case .plain:
                if c == "#" {
                    state = .comment
                } else if starts("\"\"\"") {
                    state = .multiBasic
                    i += 2
                } else if starts("'''") {
                    state = .multiLiteral
                    i += 2
                } else if c == "\"" {
                    state = .basic
                } else if c == "'" {
                    state = .literal
                } else if !c.isASCII {
                    return
                        "\(line):\(column): '\(Character(c))' outside a quoted string (keys and values are ASCII; quote the text)"
                } else if c.value < 0x20 && c != "\t" && c != "\r" || c.value == 0x7F {
                    return
                        "\(line):\(column): control character U+\(String(c.value, radix: 16, uppercase: true)) outside a quoted string"
                }
            case .basic:
                if c == "\\" {
                    i += 1
                    column += 1
                } else if c == "\"" {
                    state = .plain
                }
            case .literal: if c == "'" { state = .plain }
            case .multiBasic:
                if c == "\\" {
                    i += 1
                } else if starts("\"\"\"") {
                    state = .plain
                    i += 2
                }
            case .multiLiteral:
                if starts("'''") {
                    state = .plain
                    i += 2
                }
            case .comment: break
            }
            i += 1
        }
        return nil
    }

    /// The path of the value a decoding error is about (the missing key's table for a missing key).
    static func codingPath(of error: DecodingError) -> [any CodingKey]? {
        switch error {
        case .keyNotFound(_, let context), .typeMismatch(_, let context), .valueNotFound(_, let context),
            .dataCorrupted(let context):
            context.codingPath.isEmpty ? nil : context.codingPath
        @unknown default: nil
        }
    }

    /// The line (from 1) where the value at `codingPath` is written in `text` — its key's line, or
    /// the header of the nearest table around it — or nil. A line-based reading of the file
    /// (`[table]`, `[[array]]` and `key = …` lines), enough to point an operator at the place.
    static func line(of codingPath: [any CodingKey], in text: String) -> Int? {
        let target = codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        func parts(_ key: Substring) -> [String] {
            key.split(separator: ".").map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
            }
        }
        var table: [String] = []
        // Arrays of tables by their path (with the indices of arrays around them), and how many so far.
        var arrays: [String: Int] = [:]
        var best: (line: Int, depth: Int)?
        func consider(_ path: [String], _ line: Int) {
            if target.starts(with: path), path.count > (best?.depth ?? 0) { best = (line, path.count) }
        }
        /// `name` with the current index after every part that names an array of tables.
        func resolve(_ name: [String]) -> [String] {
            var path: [String] = []
            for part in name {
                path.append(part)
                if let count = arrays[path.joined(separator: ".")] { path.append(String(count - 1)) }
            }
            return path
        }
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("[["), let end = line.range(of: "]]") {
                let name = parts(line[line.index(line.startIndex, offsetBy: 2)..<end.lowerBound])
                let array = (resolve(Array(name.dropLast())) + name.suffix(1)).joined(separator: ".")
                arrays[array, default: 0] += 1
                table = resolve(name)
                consider(table, index + 1)
            } else if line.hasPrefix("["), let end = line.firstIndex(of: "]") {
                table = resolve(parts(line[line.index(after: line.startIndex)..<end]))
                consider(table, index + 1)
            } else if !line.hasPrefix("#"), let equals = line.firstIndex(of: "=") {
                consider(table + parts(line[..<equals]), index + 1)
            }
        }
        return best?.line
    }

    /// "field a.b[2].c: what is wrong" for a decoding error.
    static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : "." + key.stringValue
                }
            }
            return text.isEmpty ? "(top level)" : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            // TOMLKit also reports a value of the wrong type as "does not exist": say both.
            if let typeName = context.debugDescription.split(separator: "\"").dropFirst().first,
                context.debugDescription.contains("does not exist")
            {
                return "field \(path(context.codingPath)): missing, or not \(readable(String(typeName)))"
            }
            let parent = path(context.codingPath)
            return "missing field '\(key.stringValue)'" + (context.codingPath.isEmpty ? "" : " in \(parent)")
        case .typeMismatch(let type, let context):
            return "field \(path(context.codingPath)): expected \(readable(type)); \(context.debugDescription)"
        case .valueNotFound(let type, let context):
            return "field \(path(context.codingPath)): expected \(readable(type)), found nothing"
        case .dataCorrupted(let context):
            return "field \(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func readable(_ name: String) -> String {
        switch name {
        case "String": "a string"
        case "Int", "Int64": "an integer"
        case "Double": "a number"
        case "Bool": "true or false"
        default: "a \(name)"
        }
    }

    private static func readable(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: "\(type)"
        }
    }
}
