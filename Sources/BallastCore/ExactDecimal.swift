// Exact decimal numbers for prices, quantities, balances and money.
//
// Invariants:
// - A value is `significand × 10^(−scale)` with `0 ≤ scale ≤ maxScale`; nothing
//   is ever held in binary floating point.
// - Parsing then printing gives back the same text for any plain decimal
//   ("0.00001000" stays "0.00001000"): the scale a value was written with is kept.
// - Equality, ordering and hashing compare values, not spellings: 1.50 == 1.5.
// - Rounding happens only where a caller names the scale and the rule.

/// An exact base-10 number: a 128-bit integer significand and a decimal scale.
public struct ExactDecimal: Sendable {
    /// The largest number of digits after the decimal point a value may carry.
    public static let maxScale = 30

    /// The integer whose digits are the number's digits.
    public let significand: Int128
    /// The number of digits after the decimal point.
    public let scale: Int

    /// Creates `significand × 10^(−scale)`; `scale` must lie in `0...maxScale`.
    public init(significand: Int128, scale: Int) {
        precondition(scale >= 0 && scale <= Self.maxScale, "scale \(scale) outside 0...\(Self.maxScale)")
        self.significand = significand
        self.scale = scale
    }

    /// Creates the integer value `value`.
    public init(_ value: Int) {
        self.init(significand: Int128(value), scale: 0)
    }

    /// Zero.
    public static let zero = ExactDecimal(significand: 0, scale: 0)
    /// One.
    public static let one = ExactDecimal(significand: 1, scale: 0)

    /// True when the value is zero.
    public var isZero: Bool { significand == 0 }
    /// True when the value is below zero.
    public var isNegative: Bool { significand < 0 }
    /// True when the value is above zero.
    public var isPositive: Bool { significand > 0 }
    /// −1, 0 or +1.
    public var signum: Int { significand == 0 ? 0 : (significand < 0 ? -1 : 1) }
    /// The absolute value.
    public var magnitude: ExactDecimal { ExactDecimal(significand: significand.magnitude128, scale: scale) }

    /// The same value with trailing fractional zeros removed (1.500 → 1.5).
    public var normalized: ExactDecimal {
        var sig = significand
        var sc = scale
        while sc > 0, sig % 10 == 0 {
            sig /= 10
            sc -= 1
        }
        return ExactDecimal(significand: sig, scale: sc)
    }

    /// A nearest `Double`, for statistics only (volatility, scores, charts).
    public var doubleValue: Double {
        // Fast and still correctly rounded: a significand below 2^53 and 10^scale (scale ≤ 22) are
        // both exact doubles, so their quotient is rounded once, to the nearest. Otherwise via text.
        if scale <= 22, significand.magnitude < 1 << 53 {
            return Double(Int64(truncatingIfNeeded: significand)) / exactPowersOfTen[scale]
        }
        return Double(description) ?? Double(significand) / pow10Double(scale)
    }
}

extension Int128 {
    /// The magnitude as a signed value; traps only for `Int128.min`, which no decimal reaches.
    var magnitude128: Int128 { self < 0 ? -self : self }
}

/// 10^0 … 10^22: every one is exactly representable as a `Double`.
private let exactPowersOfTen: [Double] = (0...22).map { pow10Double($0) }

func pow10Double(_ n: Int) -> Double {
    var result = 1.0
    for _ in 0..<n { result *= 10 }
    return result
}

/// Powers of ten that fit in `Int128` (10^0 ... 10^38).
let powersOfTen: [Int128] = {
    var table: [Int128] = [1]
    for _ in 1...38 { table.append(table.last! * 10) }
    return table
}()
