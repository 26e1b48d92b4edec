import Foundation

/// A JSON object in the decision log's canonical form (sorted keys, no whitespace, no escaped
/// slashes), assembled from members that are encoded once and shared.
///
/// A proposal's records repeat most of what they hold: every record of a portfolio carries its
/// balances, mids, snapshots and venue health; every record of a parent trade its candidates, split
/// and books. Encoding those members once per portfolio or per parent, and copying the encoded
/// text into each record, gives the same text as encoding each whole record (keys are sorted at
/// every level either way), at a fraction of the cost.
struct CanonicalObject {
    private var members: [(key: String, json: String)] = []
    private let encoder: JSONEncoder

    /// An empty object whose members will be encoded with `encoder` (use `DecisionLog.encoder()`).
    init(encoder: JSONEncoder) { self.encoder = encoder }

    /// Sets `key` to `value`, encoded now; a nil value leaves the key out, as `Encodable` does.
    mutating func set(_ key: String, _ value: (some Encodable)?) throws {
        members.removeAll { $0.key == key }
        guard let value else { return }
        members.append((key, String(decoding: try encoder.encode(value), as: UTF8.self)))
    }

    /// The object's canonical text.
    var text: String {
        var out = "{"
        for (index, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out += "," }
            out += "\"\(member.key)\":"
            out += member.json
        }
        return out + "}"
    }
}
