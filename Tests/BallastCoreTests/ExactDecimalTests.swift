import BallastCore
import Foundation
import Testing

@Suite struct ExactDecimalTests {
    @Test func doubleValueIsTheNearestDouble() {
        // The fast path must agree with parsing the decimal text (correctly rounded) everywhere.
        var seed: UInt64 = 42
        for _ in 0..<20_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let significand = Int128(Int64(bitPattern: seed) >> Int64(seed % 40))
            let value = ExactDecimal(significand: significand, scale: Int(seed >> 58) % 24)
            #expect(value.doubleValue == Double(value.description), "\(value)")
        }
        #expect(ExactDecimal("0.1")!.doubleValue == 0.1)
        #expect(ExactDecimal("43002.308333333333")!.doubleValue == 43002.308333333333)
    }

    @Test(arguments: [
        "0.00001000", "4723846.89208129", "0", "0.0", "-12.5", "1", "100", "0.00000001", "-0.00000001",
        "99999999999999999999.999999999999", "-9999999999999999999999999999999.9999999",
    ])
    func venueStringsRoundTrip(_ text: String) throws {
        let value = try ExactDecimal(parsing: text)
        #expect(value.description == text)
        #expect(try ExactDecimal(parsing: value.description) == value)
    }

    @Test func numericOutputRoundTrips() throws {
        // PostgreSQL numeric prints trailing zeros it was given and no exponent.
        for text in ["43000.12000000", "-0.5", "1000000", "0.000000000000000001"] {
            #expect(try ExactDecimal(parsing: text).description == text)
        }
    }

    @Test func plusSignAndExponentAreAccepted() throws {
        #expect(try ExactDecimal(parsing: "+1.5") == ExactDecimal(parsing: "1.5"))
        #expect(try ExactDecimal(parsing: "1e-8").description == "0.00000001")
        #expect(try ExactDecimal(parsing: "2.5E3").description == "2500")
    }

    @Test(arguments: ["", "-", ".", "1.2.3", "NaN", "Infinity", "1,5", " 1", "1 ", "0x10", "1e", "12a"])
    func garbageIsRejectedWithAReason(_ text: String) {
        #expect(throws: DecimalParseError.self) { try ExactDecimal(parsing: text) }
        #expect(ExactDecimal(text) == nil)
    }

    @Test func tooManyDigitsIsRejected() throws {
        #expect(throws: DecimalParseError.self) { try ExactDecimal(parsing: String(repeating: "9", count: 39)) }
        #expect(throws: DecimalParseError.self) { try ExactDecimal(parsing: "0." + String(repeating: "1", count: 31)) }
        // Trailing zeros past the scale limit are harmless.
        #expect(try ExactDecimal(parsing: "1." + String(repeating: "0", count: 35)) == 1)
    }

    @Test func equalityIgnoresSpelling() throws {
        let a = try ExactDecimal(parsing: "1.50")
        let b = try ExactDecimal(parsing: "1.5")
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(Set([a, b]).count == 1)
        #expect(a.plainString == "1.5")
    }

    @Test func arithmeticIsExact() throws {
        let d = { (s: String) in try ExactDecimal(parsing: s) }
        #expect(try d("0.1") + d("0.2") == d("0.3"))
        #expect(try (d("0.1") + d("0.2")).description == "0.3")
        #expect(try d("43000.12") * d("0.00123") == d("52.8901476"))
        #expect(try d("-2.5") * d("4") == d("-10"))
        #expect(try d("1") - d("0.00000001") == d("0.99999999"))
        #expect(try d("10").divided(by: d("3"), scale: 8) == d("3.33333333"))
        #expect(try d("2").divided(by: d("3"), scale: 8, .halfEven) == d("0.66666667"))
        #expect(try d("-2").divided(by: d("3"), scale: 2, .down) == d("-0.67"))
        #expect(try d("1").divided(by: .zero, scale: 4) == nil)
        #expect(try [d("1.1"), d("2.2"), d("3.3")].sum() == d("6.6"))
    }

    @Test func roundingRulesAtAScale() throws {
        let d = { (s: String) in try ExactDecimal(parsing: s) }
        let cases: [(String, RoundingRule, String)] = [
            ("2.345", .halfEven, "2.34"), ("2.355", .halfEven, "2.36"), ("2.345", .halfUp, "2.35"),
            ("-2.345", .halfUp, "-2.35"), ("2.349", .towardZero, "2.34"), ("-2.349", .towardZero, "-2.34"),
            ("-2.341", .down, "-2.35"), ("2.341", .up, "2.35"), ("2.341", .awayFromZero, "2.35"),
        ]
        for (input, rule, expected) in cases {
            #expect(try d(input).rounded(scale: 2, rule).description == expected, "\(input) \(rule)")
        }
    }

    @Test func tickAndStepRounding() throws {
        let d = { (s: String) in try ExactDecimal(parsing: s) }
        // A buy price rounds down to the tick, a sell price up; quantities round down to the step.
        #expect(try d("43000.127").rounded(toMultipleOf: d("0.01"), .down).description == "43000.12")
        #expect(try d("43000.121").rounded(toMultipleOf: d("0.01"), .up).description == "43000.13")
        #expect(try d("0.123456789").rounded(toMultipleOf: d("0.00001000"), .down).description == "0.12345")
        #expect(try d("7").rounded(toMultipleOf: d("0.5"), .down).description == "7.0")
        #expect(try d("7.3").rounded(toMultipleOf: d("0.25"), .down) == d("7.25"))
        #expect(try d("7.3").rounded(toMultipleOf: d("5"), .down) == d("5"))
        #expect(try d("1.23").rounded(toMultipleOf: .zero, .down) == d("1.23"))
        #expect(try d("7.25").isMultiple(of: d("0.25")))
        #expect(try !d("7.3").isMultiple(of: d("0.25")))
    }

    @Test func comparisonAcrossScalesDoesNotOverflow() throws {
        let big = try ExactDecimal(parsing: "99999999999999999999999999999999999999")
        let small = try ExactDecimal(parsing: "0.000000000000000000000000000001")
        #expect(small < big)
        #expect(-big < small)
        #expect(try ExactDecimal(parsing: "1.0000000001") > 1)
    }

    @Test func codableUsesStrings() throws {
        let value = try ExactDecimal(parsing: "0.00001000")
        let json = try JSONEncoder().encode([value])
        #expect(String(decoding: json, as: UTF8.self) == #"["0.00001000"]"#)
        let back = try JSONDecoder().decode([ExactDecimal].self, from: Data(#"["0.00001000", 7]"#.utf8))
        #expect(back == [value, 7])
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([ExactDecimal].self, from: Data(#"["abc"]"#.utf8))
        }
    }

    /// Property test: random values at random scales obey exact arithmetic laws
    /// and agree with an independent integer computation.
    @Test func randomValuesObeyArithmeticLaws() throws {
        var rng = SplitMix64(seed: 0xBA11A57)
        for _ in 0..<20_000 {
            let a = ExactDecimal(significand: Int128(Int64(bitPattern: rng.next()) >> 20), scale: Int(rng.next() % 12))
            let b = ExactDecimal(significand: Int128(Int64(bitPattern: rng.next()) >> 24), scale: Int(rng.next() % 12))
            // Text round trip.
            #expect(try ExactDecimal(parsing: a.description) == a)
            // (a + b) − b == a and a − a == 0.
            #expect((a + b) - b == a)
            #expect((a - a).isZero)
            // Commutativity and distributivity.
            #expect(a + b == b + a)
            #expect(a * b == b * a)
            let c = ExactDecimal(significand: Int128(rng.next() % 1_000_000), scale: Int(rng.next() % 6))
            #expect(a * (b + c) == a * b + a * c)
            // Ordering agrees with subtraction's sign.
            #expect((a < b) == (a - b).isNegative)
            // Division then multiplication comes back within one unit of the last place.
            if !b.isZero, let q = a.divided(by: b, scale: 20) {
                let back = q * b
                let unit = ExactDecimal(significand: 1, scale: 20) * b.magnitude
                #expect((back - a).magnitude <= unit, "\(a) / \(b)")
            }
            // Step rounding gives a multiple of the step no further than one step away, on the named side.
            let step = ExactDecimal(significand: Int128(1 + rng.next() % 1000), scale: Int(rng.next() % 9))
            let down = a.rounded(toMultipleOf: step, .down)
            let up = a.rounded(toMultipleOf: step, .up)
            #expect(down.isMultiple(of: step) && up.isMultiple(of: step))
            #expect(down <= a && a <= up)
            #expect(up - down == (a.isMultiple(of: step) ? .zero : step))
        }
    }
}

/// A small deterministic generator for property tests.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
