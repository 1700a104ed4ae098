import COpenBLAS

/// A reusable C = A·B product of fixed shape on preallocated buffers, for measuring raw sgemm throughput.
///
/// Benchmarks compare whole training steps against this bound ("sgemm fraction").
public final class SgemmProbe: @unchecked Sendable {
  public let m: Int, k: Int, n: Int
  public let transposeA: Bool, transposeB: Bool
  /// The plan its products run under (nil: the process's `BLAS.gemmPlan`).
  public var plan: GemmPlan?
  /// Products per call of `run` (an ensemble's members, one after another on stacked operands).
  public let batch: Int
  private var a: [Float], b: [Float], c: [Float]

  /// Buffers for an (m×k)·(k×n) product (operands stored transposed where asked), filled with a fixed pattern.
  public init(_ m: Int, _ k: Int, _ n: Int, transposeA: Bool = false, transposeB: Bool = false, batch: Int = 1,
              plan: GemmPlan? = nil) {
    self.m = m; self.k = k; self.n = n
    self.transposeA = transposeA; self.transposeB = transposeB
    self.batch = batch; self.plan = plan
    a = (0..<(batch * m * k)).map { Float($0 % 7) * 0.01 }
    b = (0..<(batch * k * n)).map { Float($0 % 5) * 0.01 }
    c = [Float](repeating: 0, count: batch * m * n)
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

  /// Runs one product, split over the calling thread's `ProductLanes` like every product of a step, and returns
  /// C[0] (so the work cannot be optimised away).
  @discardableResult
  public func run() -> Float {
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        c.withUnsafeMutableBufferPointer { pc in
          ProductLanes.sgemm(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!, m: m, n: n, k: k, batch: batch,
                             transposeA: transposeA, transposeB: transposeB, beta: 0, plan: plan)
        }
      }
    }
    return c[0]
  }

  /// The output of the last `run` (tests: backends agree).
  public var output: [Float] { c }
}

/// Records the shapes of every sgemm call made while `record` runs (benchmarks: the FLOPs of a training step and
/// its sgemm bound). Products on every thread count while it records (an update may run its losses on two lanes
/// at once: `ProductLanes.concurrently`); record one update at a time.
public enum SgemmRecorder {
  public struct Shape: Hashable, Sendable {
    public var m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool
    public var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
  }
  nonisolated(unsafe) static var isRecording = false
  nonisolated(unsafe) static var counts: [Shape: Int] = [:]
  nonisolated(unsafe) static var isTiming = false
  nonisolated(unsafe) static var gemmNanoseconds: UInt64 = 0
  static let lock = NSLockLite()

  /// Runs `body` and returns the wall-clock seconds it spent inside `cblas_sgemm` (benchmarks: how much of a
  /// training step is matrix products, and how fast those products run inside the step compared with the same
  /// shapes on warm, preallocated buffers). Time inside sgemm on every thread adds up: where an update runs two
  /// losses at once, the total can exceed the wall time.
  public static func timeInGemm(_ body: () throws -> Void) rethrows -> Double {
    gemmNanoseconds = 0
    isTiming = true
    defer { isTiming = false }
    try body()
    return Double(gemmNanoseconds) / 1e9
  }

  /// Runs `body` and returns the sgemm shapes it called with their counts.
  public static func record(_ body: () throws -> Void) rethrows -> [Shape: Int] {
    counts = [:]
    isRecording = true
    defer { isRecording = false }
    try body()
    return counts
  }

  @inline(__always) static func note(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, batch: Int) {
    lock.lock()
    defer { lock.unlock() }
    counts[Shape(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB), default: 0] += batch
  }

  static func addTime(_ elapsed: UInt64) {
    lock.lock()
    gemmNanoseconds += elapsed
    lock.unlock()
  }
}
