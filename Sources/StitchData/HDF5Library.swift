import CHDF5

/// The HDF5 library Stitch reads and writes datasets with.
public enum HDF5Library {
  /// The version of the linked HDF5 library, e.g. "1.10.8".
  public static var version: String {
    var major: UInt32 = 0, minor: UInt32 = 0, release: UInt32 = 0
    H5get_libversion(&major, &minor, &release)
    return "\(major).\(minor).\(release)"
  }
}
