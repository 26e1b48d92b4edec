public import BallastCore
public import Postgres

extension ExactDecimal: PostgresEncodable, PostgresDecodable {
    /// The value as `numeric` input text, every digit kept.
    public var postgresText: String? { description }

    /// Reads `numeric` output text exactly; `NaN` and out-of-range values are decoding errors.
    public init(postgresBytes: UnsafeBufferPointer<UInt8>) throws(PostgresError) {
        do {
            self = try ExactDecimal(utf8: postgresBytes)
        } catch {
            throw PostgresError(code: .decodingFailed, message: "numeric \(error)")
        }
    }

    public init(postgresText: String) throws(PostgresError) {
        do {
            self = try ExactDecimal(parsing: postgresText)
        } catch {
            throw PostgresError(code: .decodingFailed, message: "numeric \(error)")
        }
    }
}
