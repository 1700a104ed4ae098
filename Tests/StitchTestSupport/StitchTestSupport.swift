import Foundation

import StitchTensor

/// Shared helpers for Stitch's test bundles (conformance checkers, fixtures, toy problems).
public enum TestSupport {
  /// A fresh temporary directory for one test, removed by the caller when done.
  public static func temporaryDirectory(_ label: String = "stitch-test") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  /// Sets OpenBLAS to one thread for the rest of the test process, as `stitch train`, `synth` and `eval` do
  /// before any work. Tests comparing one product lane with two call it first: OpenBLAS's own threads partition
  /// a product wherever they like, and under its Haswell kernel that changes the last bits of the "one lane"
  /// reference itself (ProductLanes must never run beside OpenBLAS threads > 1, see its documentation).
  public static func useOneBLASThread() { BLAS.threads = 1 }
}
