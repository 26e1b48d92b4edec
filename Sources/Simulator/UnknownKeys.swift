import Foundation

/// Rejects settings a simulator file's section does not know, so a typo fails loudly
/// instead of being ignored.
enum UnknownKeys {
    /// Throws a decoding error naming the first key of `decoder`'s table outside `known`.
    static func check<K: CodingKey & CaseIterable>(_ decoder: any Decoder, known: K.Type, section: String) throws {
        let container = try decoder.container(keyedBy: SettingKey.self)
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
struct SettingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}
