import COpenBLAS

/// A reusable C = A·B product of fixed shape on preallocated buffers, for measuring raw sgemm throughput.
///
/// Benchmarks compare whole training steps against this bound ("sgemm fraction").
public final class SgemmProbe: @unchecked Sendable {
  public let m: Int, k: Int, n: Int
  private var a: [Float], b: [Float], c: [Float]

  /// Buffers for an (m×k)·(k×n) product, filled with a fixed pattern.
  public init(_ m: Int, _ k: Int, _ n: Int) {
    self.m = m; self.k = k; self.n = n
    a = (0..<(m * k)).map { Float($0 % 7) * 0.01 }
    b = (0..<(k * n)).map { Float($0 % 5) * 0.01 }
    c = [Float](repeating: 0, count: m * n)
  }

  private nonisolated(unsafe) static var cache: [String: SgemmProbe] = [:]

  /// A cached probe of the given shape (benchmark use only; not thread-safe).
  public static func shared(_ m: Int, _ k: Int, _ n: Int) -> SgemmProbe {
    let key = "\(m)x\(k)x\(n)"
    if let p = cache[key] { return p }
    let p = SgemmProbe(m, k, n)
    cache[key] = p
    return p
  }

  /// Runs one product and returns C[0] (so the work cannot be optimised away).
  @discardableResult
  public func run() -> Float {
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                      pa.baseAddress, Int32(k), pb.baseAddress, Int32(n), 0, pc.baseAddress, Int32(n))
        }
      }
    }
    return c[0]
  }
}
