/// Harness: plain-text experiment specs, datasets, training runs and result tables.
public enum HarnessInfo {
    public static let version = "0.1.0"
}
