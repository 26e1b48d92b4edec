import Foundation
import Testing

@testable import BallastKit

@Suite struct ReportCellTests {
    /// `strtod`'s reading of `text`, the reference.
    static func reference(_ text: String) -> Double? {
        text.withCString { start in
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(start, &end)
            return end.map { UnsafePointer($0) == start + strlen(start) } == true && !text.isEmpty ? value : nil
        }
    }

    static func fast(_ text: String) -> Double? {
        Array(text.utf8).withUnsafeBufferPointer { ReportCell.plainDecimal($0) }
    }

    @Test func plainDecimalsReadExactlyAsStrtodReadsThem() {
        var generator = SystemRandomNumberGenerator()
        var takenFast = 0
        for _ in 0..<200_000 {
            // Up to 20 digits with the point anywhere (or nowhere), either sign: past 15–16 digits
            // the fast path must step aside, below it must agree bit for bit.
            let count = Int.random(in: 1...20, using: &generator)
            var digits = (0..<count).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) }
            if Bool.random(using: &generator) { digits.insert(".", at: Int.random(in: 0...count, using: &generator)) }
            let sign = ["", "-", "+"].randomElement(using: &generator)!
            let text = sign + String(digits)
            guard let fast = Self.fast(text) else { continue }
            takenFast += 1
            let reference = Self.reference(text)
            #expect(fast.bitPattern == reference?.bitPattern, "\(text): \(fast) vs \(String(describing: reference))")
        }
        #expect(takenFast > 100_000, "most of these are short enough for the fast path: \(takenFast)")
    }

    @Test func textTheFastPathDoesNotReadIsLeftToStrtodOrRefused() {
        for text in ["1e5", "1.5E-7", "NaN", "Infinity", "-", ".", "", "1.2.3", "12 USDT", "0x10", "99999999999999999"]
        {
            #expect(Self.fast(text) == nil, "\(text)")
        }
        for text in ["0", "-0", "5.", ".5", "0.00000921", "4303452.3508728", "-12.50", "900719925474099"] {
            #expect(Self.fast(text)?.bitPattern == Self.reference(text)?.bitPattern, "\(text)")
        }
        // Through the cell conversion: an exponent still reads (strtod), text in a number column does not.
        let exponent = Array("1.5e-7".utf8).withUnsafeBufferPointer { ReportCell.cell($0, .decimal) }
        #expect(exponent == .number(1.5e-7))
        let words = Array("12 USDT".utf8).withUnsafeBufferPointer { ReportCell.cell($0, .decimal) }
        #expect(words == nil)
    }

    @Test func rightAlignedFormatsKeepAGapBeforeTheNextColumnInEverySection() {
        #expect(ReportFormats.padded("#,##0", .integer) == "#,##0_)")
        #expect(ReportFormats.padded("0.00\" bps\"", .bps) == "0.00\" bps\"_)")
        #expect(ReportFormats.padded("0.00;[Red]-0.00", .decimal) == "0.00_);[Red]-0.00_)")
        #expect(ReportFormats.padded("0.00\" a;b\"", .decimal) == "0.00\" a;b\"_)")
        #expect(ReportFormats.padded("0.00_)", .decimal) == "0.00_)")
        #expect(ReportFormats.padded("@", .text) == "@")
    }
}
