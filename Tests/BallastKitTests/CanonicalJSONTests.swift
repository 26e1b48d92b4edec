import BallastCore
import BallastKit
import Foundation
import Postgres
import Testing

/// The decision log's canonical JSON is written by its own encoder; these hold it to the text
/// Foundation's `JSONEncoder` gives with sorted keys and unescaped slashes.
struct CanonicalJSONTests {
    static func foundation(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.iso8601(date))
        }
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    struct Empty: Encodable {}

    struct Awkward: Encodable {
        var text = "quote \" backslash \\ slash / tab \t newline \n cr \r bell \u{07} nul \u{00} e\u{301} é 🙂 \u{1F}"
        var keys = ["b": 1, "B": 2, "a": 3, "_": 4, "Z10": 5, "Z9": 6, "é": 7, "e": 8, "": 9]
        var numbers: [Double] = [
            0, -0.0, 1, 100, 0.1, 1.0 / 3, 1e-7, 1e21, 1.234_567_890_123_456_8e20, .leastNonzeroMagnitude,
            1.797_693_134_862_315_7e308, -2.5,
        ]
        var floats: [Float] = [0.1, 3, 1e-10]
        var integers = [Int.min, Int.max, 0, -1]
        var wide: [Int64] = [Int64.min, 7]
        var unsigned: [UInt64] = [UInt64.max]
        var flags = [true, false]
        var absent: String? = nil
        var present: String? = "here"
        var holes: [Int?] = [1, nil, 3]
        var byIndex: [Int: String] = [10: "ten", 9: "nine"]
        var nested = [["x": [[String: Int]]()], ["y": [["z": 0]]]]
        var empty = Empty()
        var emptyList: [Int] = []
        var date = Date(timeIntervalSince1970: 1_764_000_000.123)
        var decimal = ExactDecimal(significand: -1000, scale: 8)
    }

    @Test func matchesFoundationOnAwkwardValues() throws {
        let value = Awkward()
        #expect(try DecisionLog.canonical(value) == (try Self.foundation(value)))
        for number in value.numbers {
            #expect(try DecisionLog.canonical(number) == (try Self.foundation(number)), "\(number)")
        }
        #expect(try DecisionLog.canonical(Empty()) == "{}")
        #expect(try DecisionLog.canonical("a/b") == "\"a/b\"")
    }

    @Test func refusesNumbersJSONCannotHold() {
        for number in [Double.nan, .infinity, -.infinity] {
            #expect(throws: EncodingError.self) { try DecisionLog.canonical(["sigma": number]) }
        }
    }

    /// A hand-written `encode(to:)` using nested containers, a super encoder and a key written twice.
    struct Manual: Encodable {
        enum Keys: String, CodingKey { case zeta, alpha, inner, list }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode("first", forKey: .zeta)
            try container.encode("second", forKey: .zeta)
            var inner = container.nestedContainer(keyedBy: Keys.self, forKey: .inner)
            try inner.encodeNil(forKey: .alpha)
            var list = container.nestedUnkeyedContainer(forKey: .list)
            try list.encode(1)
            var deeper = list.nestedContainer(keyedBy: Keys.self)
            try deeper.encode(2.5, forKey: .zeta)
            try list.encodeNil()
            try container.encode(true, forKey: .alpha)
        }
    }

    @Test func matchesFoundationOnHandWrittenContainers() throws {
        #expect(try DecisionLog.canonical(Manual()) == (try Self.foundation(Manual())))
        #expect(
            try DecisionLog.canonical(Manual())
                == #"{"alpha":true,"inner":{"alpha":null},"list":[1,{"zeta":2.5},null],"zeta":"second"}"#)
    }
}
