import Foundation

/// Shared helpers for Stitch's test bundles (conformance checkers, fixtures, toy problems).
public enum TestSupport {
  /// A fresh temporary directory for one test, removed by the caller when done.
  public static func temporaryDirectory(_ label: String = "stitch-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
