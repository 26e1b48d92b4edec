/// A JSON object in the decision log's canonical form (sorted keys, no whitespace, no escaped
/// slashes), assembled from members that are encoded once and shared.
///
/// A proposal's records repeat most of what they hold: every record of a portfolio carries its
/// balances, mids, snapshots and venue health; every record of a parent trade its candidates, split
/// and books. Encoding those members once per portfolio or per parent, and copying the encoded
/// text into each record, gives the same text as encoding each whole record (keys are sorted at
/// every level either way), at a fraction of the cost.
struct CanonicalObject {
    /// Kept in canonical key order, each member's key already quoted.
    private var members: [(key: String, json: [UInt8])] = []

    /// Sets `key` to `value`, encoded now; a nil value leaves the key out, as `Encodable` does.
    mutating func set(_ key: String, _ value: (some Encodable)?) throws {
        let position = members.firstIndex { !CanonicalJSON.precedes($0.key, key) } ?? members.endIndex
        if position < members.endIndex && members[position].key == key { members.remove(at: position) }
        guard let value else { return }
        var json: [UInt8] = []
        CanonicalJSON.appendQuoted(key, to: &json)
        json.append(UInt8(ascii: ":"))
        try CanonicalJSON.append(value, to: &json)
        members.insert((key, json), at: position)
    }

    /// The object's canonical text as bytes.
    var bytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(members.reduce(members.count + 1) { $0 + $1.json.count })
        out.append(UInt8(ascii: "{"))
        for (index, member) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: member.json)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// The object's canonical text.
    var text: String { String(decoding: bytes, as: UTF8.self) }
}
