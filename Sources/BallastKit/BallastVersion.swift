/// Ballast's version.
public enum BallastVersion {
    /// The version string printed by `ballast --version`.
    public static let current = "0.1.0"
}
