/// Why a piece of text is not an exact decimal.
public struct DecimalParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text that was offered.
    public let text: String
    /// What is wrong with it.
    public let reason: String

    public var description: String { "'\(text)' is not a decimal number: \(reason)" }
}

extension ExactDecimal: LosslessStringConvertible, CustomStringConvertible {
    /// Parses a plain decimal such as `"0.00001000"`, `"-12.5"`, `"4723846.89208129"`
    /// or `"1e-8"`; returns nil for anything else (see `init(parsing:)` for why).
    public init?(_ description: String) {
        guard let value = try? ExactDecimal(parsing: description) else { return nil }
        self = value
    }

    /// Parses a decimal, throwing an error that names the problem.
    ///
    /// Accepts an optional sign, digits with at most one decimal point, and an
    /// optional exponent (`e`/`E`). Rejects empty text, `NaN`, `Infinity`,
    /// spaces, and values with more than 38 significant digits or more than
    /// `maxScale` non-zero fractional digits.
    public init(parsing text: String) throws(DecimalParseError) {
        var text = text
        let parsed = text.withUTF8 { bytes in Result { () throws(DecimalParseError) in try ExactDecimal(utf8: bytes) } }
        self = try parsed.get()
    }

    /// Parses a decimal from UTF-8 bytes (the fast path for database and wire text).
    public init(utf8 bytes: UnsafeBufferPointer<UInt8>) throws(DecimalParseError) {
        var digits: Int128 = 0
        var digitCount = 0
        var scale = 0
        var sawPoint = false
        var sawDigit = false
        var negative = false
        var exponent = 0
        var index = 0
        func fail(_ reason: String) -> DecimalParseError {
            DecimalParseError(text: String(decoding: bytes, as: UTF8.self), reason: reason)
        }

        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                sawDigit = true
                if digits != 0 || byte != UInt8(ascii: "0") { digitCount += 1 }
                guard digitCount <= 38 else { throw fail("more than 38 significant digits") }
                digits = digits * 10 + Int128(byte - UInt8(ascii: "0"))
                if sawPoint { scale += 1 }
            } else if byte == UInt8(ascii: ".") {
                guard !sawPoint else { throw fail("more than one decimal point") }
                sawPoint = true
            } else if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                guard sawDigit else { throw fail("exponent without digits") }
                let rest = String(decoding: bytes[(index + 1)...], as: UTF8.self)
                guard let e = Int(rest), abs(e) <= 60 else { throw fail("bad exponent '\(rest)'") }
                exponent = e
                index = bytes.count
                break
            } else {
                throw fail("unexpected character '\(Character(Unicode.Scalar(byte)))'")
            }
            index += 1
        }
        guard sawDigit else { throw fail(bytes.isEmpty ? "empty text" : "no digits") }

        scale -= exponent
        if scale < 0 {
            guard digitCount - scale <= 38 else { throw fail("too large") }
            digits *= powersOfTen[-scale]
            scale = 0
        }
        while scale > ExactDecimal.maxScale, digits % 10 == 0 {
            digits /= 10
            scale -= 1
        }
        guard scale <= ExactDecimal.maxScale else {
            throw fail("more than \(ExactDecimal.maxScale) decimal places")
        }
        self.init(significand: negative ? -digits : digits, scale: scale)
    }

    /// The value written with exactly `scale` fractional digits, e.g. `"0.00001000"`.
    public var description: String {
        let negative = significand < 0
        var digits = String(significand.magnitude128)
        if scale > 0 {
            if digits.count <= scale {
                digits = String(repeating: "0", count: scale - digits.count + 1) + digits
            }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        return negative ? "-" + digits : digits
    }

    /// The shortest spelling of the value: trailing fractional zeros removed.
    public var plainString: String { normalized.description }

    /// The value written with exactly `places` fractional digits, rounding half to even.
    public func formatted(places: Int) -> String {
        rounded(scale: places, .halfEven).description
    }
}

extension ExactDecimal: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) {
        self.init(value)
    }
}

extension ExactDecimal: Codable {
    /// Decodes from a JSON string (the venue convention) or, failing that, a JSON integer.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            do {
                self = try ExactDecimal(parsing: text)
            } catch {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
            }
        } else if let integer = try? container.decode(Int.self) {
            self.init(integer)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a decimal number written as a string")
        }
    }

    /// Encodes as a JSON string, keeping every digit.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
