import CMuJoCo

/// The MuJoCo physics library Stitch's locomotion tasks run on.
public enum MuJoCoLibrary {
  /// The linked MuJoCo version as MuJoCo reports it (`mj_version()`, e.g. 222 for 2.2.2), written "2.2.2".
  public static var version: String {
    let v = Int(mj_version())
    return "\(v / 100).\(v / 10 % 10).\(v % 10)"
  }
}
