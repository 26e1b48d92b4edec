extension KeyedDecodingContainer {
    /// A number written as `0.5` or `1`: TOML keeps integers and floats apart,
    /// and a setting like `spread_bps = 2` must not be refused for lacking a point.
    public func decodeNumberIfPresent(forKey key: Key) throws -> Double? {
        guard contains(key) else { return nil }
        if let value = try? decode(Double.self, forKey: key) { return value }
        if let value = try? decode(Int.self, forKey: key) { return Double(value) }
        throw DecodingError.typeMismatch(
            Double.self, .init(codingPath: codingPath + [key], debugDescription: "expected a number"))
    }
}

/// Rejects keys a settings table does not know, so a typo fails loudly instead of being ignored
/// (job files and simulator files alike).
public enum StrictKeys {
    /// Throws a decoding error naming the first key of `decoder`'s table outside `known`.
    public static func check<K: CodingKey & CaseIterable>(_ decoder: any Decoder, known: K.Type, section: String)
        throws
    {
        try check(try decoder.container(keyedBy: AnyKey.self), known: known, section: section)
    }

    /// Throws a decoding error naming the first key of `container` outside `known`.
    public static func check<K: CodingKey & CaseIterable>(
        _ container: KeyedDecodingContainer<AnyKey>, known: K.Type, section: String
    ) throws {
        let allowed = Set(K.allCases.map(\.stringValue))
        for key in container.allKeys.sorted(by: { $0.stringValue < $1.stringValue })
        where !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: container.codingPath + [key],
                    debugDescription:
                        "unknown setting '\(key.stringValue)' in \(section) (known: \(allowed.sorted().joined(separator: ", ")))"
                ))
        }
    }
}

/// A coding key for any string, to list what a table holds.
public struct AnyKey: CodingKey {
    public var stringValue: String
    public var intValue: Int?
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}
