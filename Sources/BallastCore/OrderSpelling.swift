/// A spelling of order types and times in force other than Ballast's own (the raw values), for
/// text that was written in it.
///
/// `OrderType` and `TimeInForce` encode and decode in Ballast's words, unless the encoder or
/// decoder carries a spelling under `CodingUserInfoKey.orderSpelling`: then in that spelling, and
/// only in it. Decision records are hash-chained and never rewritten, so the records written before
/// Ballast had its own words keep the words they were written in; `audit recompute` reads them, and
/// writes what it recomputes for them, in those words.
public protocol OrderSpelling: Sendable {
    /// How `type` is spelled.
    func spelling(of type: OrderType) -> String
    /// The order type spelled `text`, or nil when the spelling has no such word.
    func orderType(spelled text: String) -> OrderType?
    /// How `timeInForce` is spelled.
    func spelling(of timeInForce: TimeInForce) -> String
    /// The time in force spelled `text`, or nil when the spelling has no such word.
    func timeInForce(spelled text: String) -> TimeInForce?
}

extension CodingUserInfoKey {
    /// An `OrderSpelling` to encode or decode order types and times in force in.
    public static let orderSpelling = CodingUserInfoKey(rawValue: "ballast.orderSpelling")!
}

extension OrderType: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        let spelling = decoder.userInfo[.orderSpelling] as? any OrderSpelling
        guard let type = spelling.map({ $0.orderType(spelled: text) }) ?? OrderType(rawValue: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown order type '\(text)'")
        }
        self = type
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        let spelling = encoder.userInfo[.orderSpelling] as? any OrderSpelling
        try container.encode(spelling?.spelling(of: self) ?? rawValue)
    }
}

extension TimeInForce: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        let spelling = decoder.userInfo[.orderSpelling] as? any OrderSpelling
        guard let value = spelling.map({ $0.timeInForce(spelled: text) }) ?? TimeInForce(rawValue: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "unknown time in force '\(text)'")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        let spelling = encoder.userInfo[.orderSpelling] as? any OrderSpelling
        try container.encode(spelling?.spelling(of: self) ?? rawValue)
    }
}
