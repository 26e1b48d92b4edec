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
            throw BallastError.invalidInput("\(source): \(describe(error))")
        } catch let error as BallastError {
            throw BallastError.invalidInput("\(source): \(error.description)")
        }
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
