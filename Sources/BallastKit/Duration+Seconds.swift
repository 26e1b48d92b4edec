import BallastCore

extension Duration {
    /// The duration in seconds as a `Double` (for reporting only): `timeInterval` by its reporting name.
    public var seconds: Double { timeInterval }
}
