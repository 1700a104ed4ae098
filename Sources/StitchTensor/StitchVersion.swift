/// The version of Stitch, written into every file and checkpoint Stitch makes.
public enum StitchVersion {
  /// Semantic version of this build.
  public static let string = "0.1.0"
}
