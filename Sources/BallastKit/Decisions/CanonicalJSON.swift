import Foundation
import Postgres

/// Encodes a value as the decision log's canonical JSON: object keys sorted by their UTF-8 bytes at
/// every level, no whitespace, slashes not escaped, dates as ISO-8601 UTC strings, and numbers as
/// Swift prints them (an integral floating-point value without its ".0"). The text is the same as
/// Foundation's `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes` gives (a test holds
/// the two side by side), written directly instead of through a tree of dictionaries: a proposal's
/// records are tens of megabytes of JSON, and encoding them was most of the cost of storing them.
enum CanonicalJSON {
    /// The canonical text of `value`; `userInfo` is what its encoding sees (as `JSONEncoder`'s).
    static func encode(_ value: some Encodable, userInfo: [CodingUserInfoKey: Any] = [:]) throws -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        try append(value, to: &out, userInfo: userInfo)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the canonical text of `value` to `out`.
    static func append(
        _ value: some Encodable, to out: inout [UInt8], userInfo: [CodingUserInfoKey: Any] = [:]
    ) throws {
        try Member.of(value, path: [], userInfo: userInfo).write(to: &out)
    }

    /// Appends `text` as a JSON string literal.
    static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                out.append(UInt8(ascii: "\\"))
                switch byte {
                case 0x22: out.append(UInt8(ascii: "\""))
                case 0x5C: out.append(UInt8(ascii: "\\"))
                case 0x08: out.append(UInt8(ascii: "b"))
                case 0x0C: out.append(UInt8(ascii: "f"))
                case 0x0A: out.append(UInt8(ascii: "n"))
                case 0x0D: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Whether `a` sorts before `b` by their UTF-8 bytes (the canonical key order).
    static func precedes(_ a: String, _ b: String) -> Bool {
        var (a, b) = (a, b)
        return a.withUTF8 { x in
            b.withUTF8 { y in
                let common = min(x.count, y.count)
                if common > 0, let xs = x.baseAddress, let ys = y.baseAddress {
                    let order = memcmp(xs, ys, common)
                    if order != 0 { return order < 0 }
                }
                return x.count < y.count
            }
        }
    }

    /// An encoded value: finished text for a scalar, or a container still being filled.
    fileprivate enum Member {
        case text([UInt8])
        case node(Node)

        /// Encodes `value`: scalars directly, anything else through its `encode(to:)`.
        static func of<T: Encodable>(_ value: T, path: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) throws
            -> Member
        {
            if let text = try scalar(value, path: path) { return .text(text) }
            let node = Node(codingPath: path, userInfo: userInfo)
            try value.encode(to: node)
            return .node(node)
        }

        /// The text of a scalar, or nil for anything else. Dispatches on the static type (one
        /// comparison each) rather than trying a dynamic cast per scalar type on every value.
        static func scalar<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> [UInt8]? {
            var out: [UInt8] = []
            switch ObjectIdentifier(T.self) {
            case ObjectIdentifier(String.self): appendQuoted(value as! String, to: &out)
            case ObjectIdentifier(Date.self): appendQuoted(Timestamp.iso8601(value as! Date), to: &out)
            case ObjectIdentifier(Bool.self): out.append(contentsOf: ((value as! Bool) ? "true" : "false").utf8)
            case ObjectIdentifier(Int.self): out.append(contentsOf: String(value as! Int).utf8)
            case ObjectIdentifier(Int64.self): out.append(contentsOf: String(value as! Int64).utf8)
            case ObjectIdentifier(Int32.self): out.append(contentsOf: String(value as! Int32).utf8)
            case ObjectIdentifier(UInt64.self): out.append(contentsOf: String(value as! UInt64).utf8)
            case ObjectIdentifier(UInt.self): out.append(contentsOf: String(value as! UInt).utf8)
            case ObjectIdentifier(Double.self): try appendNumber(value as! Double, path: path, to: &out)
            case ObjectIdentifier(Float.self): try appendNumber(value as! Float, path: path, to: &out)
            default: return nil
            }
            return out
        }

        static func appendNumber<F: BinaryFloatingPoint & LosslessStringConvertible>(
            _ value: F, path: [any CodingKey], to out: inout [UInt8]
        ) throws {
            guard value.isFinite else {
                throw EncodingError.invalidValue(
                    value, .init(codingPath: path, debugDescription: "\(value) is not a JSON number"))
            }
            var text = value.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            out.append(contentsOf: text.utf8)
        }

        func write(to out: inout [UInt8]) throws {
            switch self {
            case .text(let text): out.append(contentsOf: text)
            case .node(let node): try node.write(to: &out)
            }
        }
    }

    /// One container in the value being encoded, and the `Encoder` its value writes into.
    fileprivate final class Node: Encoder {
        enum Shape { case empty, object, array, single }
        var shape = Shape.empty
        var members: [(key: String, value: Member)] = []
        var items: [Member] = []
        var single: Member?
        let codingPath: [any CodingKey]
        let userInfo: [CodingUserInfoKey: Any]

        init(codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: Any]) {
            self.codingPath = codingPath
            self.userInfo = userInfo
        }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            shape = .object
            return KeyedEncodingContainer(Keyed<Key>(node: self))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer {
            shape = .array
            return Unkeyed(node: self)
        }

        func singleValueContainer() -> any SingleValueEncodingContainer {
            shape = .single
            return Single(node: self)
        }

        func write(to out: inout [UInt8]) throws {
            switch shape {
            case .empty:
                out.append(contentsOf: "{}".utf8)
            case .single:
                guard let single else {
                    throw EncodingError.invalidValue(
                        (), .init(codingPath: codingPath, debugDescription: "a single value container held nothing"))
                }
                try single.write(to: &out)
            case .array:
                out.append(UInt8(ascii: "["))
                for (index, item) in items.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    try item.write(to: &out)
                }
                out.append(UInt8(ascii: "]"))
            case .object:
                // Sorted by key bytes; a key encoded twice keeps its last value, as a dictionary would.
                let keys = members.map(\.key)
                let order = keys.indices.sorted {
                    keys[$0] == keys[$1] ? $0 < $1 : CanonicalJSON.precedes(keys[$0], keys[$1])
                }
                out.append(UInt8(ascii: "{"))
                var first = true
                for (position, index) in order.enumerated() {
                    if position + 1 < order.count && keys[order[position + 1]] == keys[index] { continue }
                    if !first { out.append(UInt8(ascii: ",")) }
                    first = false
                    appendQuoted(keys[index], to: &out)
                    out.append(UInt8(ascii: ":"))
                    try members[index].value.write(to: &out)
                }
                out.append(UInt8(ascii: "}"))
            }
        }
    }

    fileprivate struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        var codingPath: [any CodingKey] { node.codingPath }

        mutating func encodeNil(forKey key: Key) throws {
            node.members.append((key.stringValue, .text(Array("null".utf8))))
        }

        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            node.members.append(
                (key.stringValue, try Member.of(value, path: codingPath + [key], userInfo: node.userInfo)))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
            -> KeyedEncodingContainer<NestedKey>
        {
            let child = Node(codingPath: codingPath + [key], userInfo: node.userInfo)
            node.members.append((key.stringValue, .node(child)))
            return child.container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let child = Node(codingPath: codingPath + [key], userInfo: node.userInfo)
            node.members.append((key.stringValue, .node(child)))
            return child.unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder { superEncoder(named: "super") }
        mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue) }

        private func superEncoder(named name: String) -> any Encoder {
            let child = Node(codingPath: codingPath + [PlainKey(name)], userInfo: node.userInfo)
            node.members.append((name, .node(child)))
            return child
        }
    }

    fileprivate struct Unkeyed: UnkeyedEncodingContainer {
        let node: Node
        var codingPath: [any CodingKey] { node.codingPath }
        var count: Int { node.items.count }

        mutating func encodeNil() throws { node.items.append(.text(Array("null".utf8))) }

        mutating func encode<T: Encodable>(_ value: T) throws {
            node.items.append(
                try Member.of(value, path: codingPath + [PlainKey(index: count)], userInfo: node.userInfo))
        }

        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type)
            -> KeyedEncodingContainer<NestedKey>
        {
            let child = Node(codingPath: codingPath + [PlainKey(index: count)], userInfo: node.userInfo)
            node.items.append(.node(child))
            return child.container(keyedBy: keyType)
        }

        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let child = Node(codingPath: codingPath + [PlainKey(index: count)], userInfo: node.userInfo)
            node.items.append(.node(child))
            return child.unkeyedContainer()
        }

        mutating func superEncoder() -> any Encoder {
            let child = Node(codingPath: codingPath + [PlainKey(index: count)], userInfo: node.userInfo)
            node.items.append(.node(child))
            return child
        }
    }

    fileprivate struct Single: SingleValueEncodingContainer {
        let node: Node
        var codingPath: [any CodingKey] { node.codingPath }

        mutating func encodeNil() throws { node.single = .text(Array("null".utf8)) }
        mutating func encode<T: Encodable>(_ value: T) throws {
            node.single = try Member.of(value, path: codingPath, userInfo: node.userInfo)
        }
    }

    fileprivate struct PlainKey: CodingKey {
        var stringValue: String
        var intValue: Int?
        init(_ string: String) { (stringValue, intValue) = (string, nil) }
        init(index: Int) { (stringValue, intValue) = ("Index \(index)", index) }
        init?(stringValue: String) { self.init(stringValue) }
        init?(intValue: Int) { self.init(index: intValue) }
    }
}
