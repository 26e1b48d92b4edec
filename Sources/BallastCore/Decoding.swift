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
