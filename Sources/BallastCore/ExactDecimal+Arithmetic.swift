/// How a value that does not fit the requested scale is brought onto it.
public enum RoundingRule: Sendable, Hashable, CaseIterable {
    /// Toward zero (truncate).
    case towardZero
    /// Away from zero.
    case awayFromZero
    /// Toward negative infinity.
    case down
    /// Toward positive infinity.
    case up
    /// To nearest; ties to the even neighbour (banker's rounding).
    case halfEven
    /// To nearest; ties away from zero.
    case halfUp
}

extension ExactDecimal {
    /// Both values' significands expressed at the larger of their two scales.
    private static func aligned(_ a: ExactDecimal, _ b: ExactDecimal) -> (Int128, Int128, Int) {
        if a.scale == b.scale { return (a.significand, b.significand, a.scale) }
        let scale = max(a.scale, b.scale)
        return (a.significand * powersOfTen[scale - a.scale], b.significand * powersOfTen[scale - b.scale], scale)
    }

    public static func + (a: ExactDecimal, b: ExactDecimal) -> ExactDecimal {
        let (x, y, scale) = aligned(a, b)
        return ExactDecimal(significand: x + y, scale: scale)
    }

    public static func - (a: ExactDecimal, b: ExactDecimal) -> ExactDecimal {
        let (x, y, scale) = aligned(a, b)
        return ExactDecimal(significand: x - y, scale: scale)
    }

    public static prefix func - (a: ExactDecimal) -> ExactDecimal {
        ExactDecimal(significand: -a.significand, scale: a.scale)
    }

    public static func += (a: inout ExactDecimal, b: ExactDecimal) { a = a + b }
    public static func -= (a: inout ExactDecimal, b: ExactDecimal) { a = a - b }

    /// The exact product; if it needs more than `maxScale` places it is rounded half to even.
    public static func * (a: ExactDecimal, b: ExactDecimal) -> ExactDecimal {
        let (x, y) = (a.normalized, b.normalized)
        let scale = x.scale + y.scale
        let wide = x.significand.multipliedFullWidth(by: y.significand)
        if scale <= maxScale, let exact = Int128(exactlyWide: wide) {
            return ExactDecimal(significand: exact, scale: scale)
        }
        // Drop the fewest trailing digits that bring the product within scale and 128 bits.
        var drop = max(scale - maxScale, 0)
        while drop <= min(38, scale) {
            if let q = divideWide(wide, by: powersOfTen[drop], rule: .halfEven) {
                return ExactDecimal(significand: q, scale: scale - drop)
            }
            drop += 1
        }
        preconditionFailure("decimal product \(a) × \(b) overflows 128 bits")
    }

    public static func *= (a: inout ExactDecimal, b: ExactDecimal) { a = a * b }

    /// `self ÷ divisor`, rounded to `scale` places by `rule`; nil when `divisor` is zero.
    public func divided(by divisor: ExactDecimal, scale: Int, _ rule: RoundingRule = .halfEven) -> ExactDecimal? {
        guard !divisor.isZero else { return nil }
        precondition(scale >= 0 && scale <= Self.maxScale)
        // self / divisor = (s1 / 10^a) / (s2 / 10^b) = s1 · 10^(b − a) / s2; want · 10^scale.
        let shift = scale + divisor.scale - self.scale
        if shift >= 0 {
            precondition(shift <= 38, "decimal quotient scale out of range")
            let wide = significand.multipliedFullWidth(by: powersOfTen[shift])
            guard let q = Self.divideWide(wide, by: divisor.significand, rule: rule) else {
                preconditionFailure("decimal quotient overflows 128 bits")
            }
            return ExactDecimal(significand: q, scale: scale)
        }
        // Numerator has more places than needed: divide the divisor up instead.
        let (den, overflow) = divisor.significand.multipliedReportingOverflow(by: powersOfTen[min(-shift, 38)])
        if !overflow && -shift <= 38 {
            let wide = significand.multipliedFullWidth(by: 1)
            return Self.divideWide(wide, by: den, rule: rule).map { ExactDecimal(significand: $0, scale: scale) }
        }
        // |divisor| · 10^k exceeds every Int128, so the quotient is below one unit at this scale.
        let tiny = Self.adjust(
            quotient: 0, remainder: significand.signum(), divisor: Int128.max * divisor.significand.signum(),
            rule: rule)
        return ExactDecimal(significand: tiny, scale: scale)
    }

    /// The value rounded to `scale` fractional digits by `rule`.
    public func rounded(scale newScale: Int, _ rule: RoundingRule) -> ExactDecimal {
        precondition(newScale >= 0 && newScale <= Self.maxScale)
        if newScale >= scale {
            return ExactDecimal(significand: significand * powersOfTen[newScale - scale], scale: newScale)
        }
        let q = Self.divide(significand, by: powersOfTen[scale - newScale], rule: rule)
        return ExactDecimal(significand: q, scale: newScale)
    }

    /// The nearest multiple of `increment` chosen by `rule` (a tick or a lot step).
    /// An increment of zero means "no rule" and returns the value unchanged.
    public func rounded(toMultipleOf increment: ExactDecimal, _ rule: RoundingRule) -> ExactDecimal {
        guard !increment.isZero else { return self }
        let step = increment.magnitude.normalized
        let (x, y, scale) = Self.aligned(self, step)
        let units = Self.divide(x, by: y, rule: rule)
        // A multiple of the step is exact at the step's own scale.
        return ExactDecimal(significand: units * y, scale: scale).rounded(scale: step.scale, .towardZero)
    }

    /// True when the value is a whole multiple of `increment` (always true for a zero increment).
    public func isMultiple(of increment: ExactDecimal) -> Bool {
        guard !increment.isZero else { return true }
        let (x, y, _) = Self.aligned(self, increment.magnitude)
        return x % y == 0
    }

    /// The value with its scale raised to at least `minimum` (no change of value).
    public func withScale(atLeast minimum: Int) -> ExactDecimal {
        minimum > scale ? rounded(scale: minimum, .towardZero) : self
    }

    /// Integer division of `n` by a positive or negative `d` with the given rounding.
    static func divide(_ n: Int128, by d: Int128, rule: RoundingRule) -> Int128 {
        let (q, r) = n.quotientAndRemainder(dividingBy: d)
        return adjust(quotient: q, remainder: r, divisor: d, rule: rule)
    }

    /// Divides a 256-bit value by `d`; nil when the quotient does not fit 128 bits.
    static func divideWide(_ wide: (high: Int128, low: UInt128), by d: Int128, rule: RoundingRule) -> Int128? {
        // Guard against quotient overflow before asking the hardware-style division.
        let dividendNegative = wide.high < 0
        let magnitude = wideMagnitude(wide)
        let dMag = UInt128(d.magnitude)
        guard magnitude.high < dMag else { return nil }
        let (uq, ur) = dMag.dividingFullWidth((magnitude.high, magnitude.low))
        let negative = dividendNegative != (d < 0)
        guard uq <= UInt128(Int128.max) else { return nil }
        let q = negative ? -Int128(uq) : Int128(uq)
        let r = dividendNegative ? -Int128(ur) : Int128(ur)
        return adjust(quotient: q, remainder: r, divisor: d, rule: rule)
    }

    private static func wideMagnitude(_ wide: (high: Int128, low: UInt128)) -> (high: UInt128, low: UInt128) {
        guard wide.high < 0 else { return (UInt128(wide.high), wide.low) }
        // Two's complement negate of the 256-bit value.
        let low = ~wide.low &+ 1
        let high = ~UInt128(bitPattern: wide.high) &+ (low == 0 ? 1 : 0)
        return (high, low)
    }

    static func adjust(quotient q: Int128, remainder r: Int128, divisor d: Int128, rule: RoundingRule)
        -> Int128
    {
        guard r != 0 else { return q }
        // Sign of the true quotient (q may be 0 when |n| < |d|).
        let positive = (r < 0) == (d < 0)
        let away: Int128 = positive ? 1 : -1
        switch rule {
        case .towardZero: return q
        case .awayFromZero: return q + away
        case .down: return positive ? q : q - 1
        case .up: return positive ? q + 1 : q
        case .halfUp, .halfEven:
            let twice = r.magnitude128 * 2
            let dMag = d.magnitude128
            if twice > dMag { return q + away }
            if twice < dMag { return q }
            if rule == .halfUp { return q + away }
            return q % 2 == 0 ? q : q + away
        }
    }
}

extension Int128 {
    /// The 256-bit value as an `Int128` when it fits.
    init?(exactlyWide wide: (high: Int128, low: UInt128)) {
        let low = Int128(bitPattern: wide.low)
        if wide.high == 0 && low >= 0 { self = low; return }
        if wide.high == -1 && low < 0 { self = low; return }
        return nil
    }
}

extension ExactDecimal: Equatable, Hashable, Comparable {
    public static func == (a: ExactDecimal, b: ExactDecimal) -> Bool {
        compare(a, b) == 0
    }

    public func hash(into hasher: inout Hasher) {
        let n = normalized
        hasher.combine(n.significand)
        hasher.combine(n.scale)
    }

    public static func < (a: ExactDecimal, b: ExactDecimal) -> Bool {
        compare(a, b) < 0
    }

    /// −1, 0 or +1 as `a` is below, equal to or above `b`; never overflows.
    static func compare(_ a: ExactDecimal, _ b: ExactDecimal) -> Int {
        if a.scale == b.scale { return a.significand == b.significand ? 0 : (a.significand < b.significand ? -1 : 1) }
        if a.signum != b.signum { return a.signum < b.signum ? -1 : 1 }
        let scale = max(a.scale, b.scale)
        let x = a.significand.multipliedFullWidth(by: powersOfTen[scale - a.scale])
        let y = b.significand.multipliedFullWidth(by: powersOfTen[scale - b.scale])
        if x.high != y.high { return x.high < y.high ? -1 : 1 }
        if x.low != y.low { return x.low < y.low ? -1 : 1 }
        return 0
    }
}

extension Sequence where Element == ExactDecimal {
    /// The exact sum of the elements (zero when empty).
    public func sum() -> ExactDecimal {
        reduce(ExactDecimal.zero, +)
    }
}
