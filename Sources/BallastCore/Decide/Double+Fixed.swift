// Small conversions the decide step uses to write its reasons and to bring
// policy figures (bps, band widths, which are `Double`) into exact arithmetic.

extension Double {
    /// The value written with exactly `places` fractional digits (rounded half away from zero), e.g. `"12.30"`.
    package func fixed(_ places: Int) -> String {
        var factor = 1.0
        for _ in 0..<places { factor *= 10 }
        let scaled = (self * factor).rounded()
        guard scaled.isFinite, abs(scaled) < 1e30 else { return description }
        return ExactDecimal(significand: Int128(scaled), scale: places).description
    }

    /// The value as an exact decimal through its shortest round-trip spelling (zero when not finite).
    var exactDecimal: ExactDecimal {
        guard isFinite else { return .zero }
        return ExactDecimal(description) ?? .zero
    }
}
