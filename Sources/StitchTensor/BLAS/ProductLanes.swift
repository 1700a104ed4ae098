import CForkJoin
import CGemm
import COpenBLAS
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How many cores one thread's matrix products use: 1 (the default) or 2, set per thread.
///
/// With 2 lanes, `Tensor.gemm` splits each large enough product in two: the output's rows (or, when there are
/// fewer than 64 rows, its columns) halve at a multiple of 16, and ensembles halve by member; the calling thread
/// computes one half and a helper thread (`CForkJoin`: spinning between products, parked when idle) the other,
/// each with single-threaded OpenBLAS. Measured here (benchmarks/RESULTS.md, "product lanes"): on thin products,
/// where OpenBLAS's own second thread gains nothing or loses, 1.6–4.7x one thread (NT 256×256×17: 127.5 GFLOP/s
/// against OpenBLAS's 77.5; NT 256×6×256: 183.8 against 27.8); on square and large ones level with OpenBLAS's
/// split (1.7–1.9x). Whole updates gain 1.5–2.0x from the second core.
///
/// Ensemble products always halve by member. Other products with fewer than `minimumFlops` FLOPs stay on one
/// lane unless they have `localRows` rows or more (then they split by rows, to keep each lane's rows in its own
/// cache), and so do products with both M and N under 64.
/// Results: ensemble and column splits compute every output element exactly as one thread does; row splits do
/// too at the shapes measured except where N < 16 (the kernel's edge tiles change), so runs with 2 lanes are
/// bit-identical run to run, and usually but not always to runs with 1 lane.
///
/// Use it when a thread has a core to spare (one seed on a 2-core machine); the trainer sets it that way.
/// Never combine it with OpenBLAS threads > 1.
public enum ProductLanes {
  /// Products smaller than this stay on the calling thread (a hand-off costs about a microsecond), except row
  /// splits of products with at least `localRows` rows.
  public static let minimumFlops = 1 << 20

  /// Products with this many rows or more split by rows however few their FLOPs (a network's output layer and
  /// its gradient, 256 × 1 or 256 × 6 here): each lane then reads and writes only the rows of the activations it
  /// computed itself. Left to one lane, such a product reads the other lane's half of a 256 × 256 activation or
  /// writes its half of the gradient, and on this machine moving a 128 KB half between the cores costs 1–4.5 µs
  /// more than touching it where it was written (benchmarks/cross_core_probe.c), more than the hand-off.
  public static let localRows = 64

  final class State {
    var lanes = 1
    var pair: OpaquePointer?
    deinit { if let pair { stitch_pair_destroy(pair) } }
  }

  static let key: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { p in
      #if canImport(Glibc)
      guard let p else { return }
      #endif
      Unmanaged<State>.fromOpaque(p).release()
    }
    return key
  }()

  static var state: State {
    if let p = pthread_getspecific(key) { return Unmanaged<State>.fromOpaque(p).takeUnretainedValue() }
    let s = State()
    pthread_setspecific(key, Unmanaged.passRetained(s).toOpaque())
    return s
  }

  /// Lanes for products computed on the calling thread (1 or 2; other values are clamped).
  public static var current: Int {
    get {  // read on every product: one thread-local lookup, no State made for threads that never set it
      guard let p = pthread_getspecific(key) else { return 1 }
      return Unmanaged<State>.fromOpaque(p).takeUnretainedValue().lanes
    }
    set { state.lanes = min(2, max(1, newValue)) }  // a helper already started stays, parked, until the thread ends
  }

  /// Runs `body` with this thread's lanes set to `lanes`, then restores them. Work that spreads over the cores
  /// by other means (sampling chunks, evaluation episodes) runs its pieces with 1.
  public static func with<R>(_ lanes: Int, _ body: () throws -> R) rethrows -> R {
    let saved = current
    current = lanes
    defer { current = saved }
    return try body()
  }

  /// Elementwise loops with fewer elements than this stay whole on the calling thread.
  public static let minimumElements = 1 << 15

  /// Runs `body` over `0..<count`, in two parts on this thread's lanes when it has 2 and `count × elementsEach`
  /// reaches `minimumElements`, else in one call. For loops whose iterations are independent (elementwise
  /// kernels, Adam, per-column sums, row-wise bias adds), so the result is the same either way; element splits
  /// fall on a multiple of 16 (a cache line of floats). On two lanes an MLP update's products were split but its
  /// elementwise work (a quarter of a two-lane TD3+BC update) ran on one core; this spreads the large loops.
  @inline(__always)
  public static func parallelFor(_ count: Int, elementsEach: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count >= 2, count &* elementsEach >= minimumElements, current == 2 else {
      body(0..<count)
      return
    }
    let mid = elementsEach == 1 ? Swift.min(count, (count / 2 + 15) & ~15) : (count + 1) / 2
    fork { lane in body(lane == 0 ? 0..<mid : mid..<count) }
  }

  /// Runs two independent pieces of work, `first` on this thread and `second` on its helper at the same time
  /// when this thread has 2 lanes, and one after the other (first, then second) when it has 1. Each piece runs
  /// with 1 lane for its own products, so the result does not depend on the lanes: use it for parts of an
  /// update that read nothing the other writes (IQL's value, critic and actor losses all start from the same
  /// networks). Splitting whole losses costs one hand-off where splitting their products costs one per product,
  /// and it spreads their elementwise work (activations, Adam) over both cores too.
  ///
  /// Both pieces may record gradients (tapes are per thread), allocate (buffer pools are per thread) and throw;
  /// when both throw, `first`'s error is rethrown.
  public static func concurrently<A, B>(_ first: () throws -> A, _ second: () throws -> B) throws -> (A, B) {
    guard current == 2 else { return (try with(1, first), try with(1, second)) }
    var a: Result<A, any Error>?
    var b: Result<B, any Error>?
    withoutActuallyEscaping(first) { first in
      withoutActuallyEscaping(second) { second in
        fork { lane in
          // Lane 1 runs on the helper, or on this thread after lane 0 when the helper has not started.
          if lane == 0 { a = Result { try with(1, first) } } else { b = Result { try with(1, second) } }
        }
      }
    }
    return (try a!.get(), try b!.get())
  }

  /// Runs `body(0)` on this thread and `body(1)` on its helper, returning when both are done; both on this
  /// thread, one after the other, when the helper cannot be started.
  static func fork(_ body: (Int) -> Void) {
    let s = state
    if s.pair == nil { s.pair = stitch_pair_create() }
    guard let pair = s.pair else {
      body(0)
      body(1)
      return
    }
    withoutActuallyEscaping(body) { escapable in
      var task = escapable
      withUnsafeMutablePointer(to: &task) { pointer in
        stitch_pair_run(pair, { context, lane in
          context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(lane))
        }, pointer)
      }
    }
  }

  /// The rows (`.rows`) or columns (`.columns`) at which an M×N product splits, or nil to keep it whole.
  /// Products on the Haswell driver (`BLAS.viaDriver`, always m ≥ 64) split their rows at a multiple of 12:
  /// its kernel takes the output's rows 12 at a time, and only there are both halves bit-identical to the whole
  /// product (benchmarks/sgemm_driver_probe.c checks every multiple of 4: only multiples of 12 keep every element).
  static func split(m: Int, n: Int, k: Int, driver: Bool = false) -> (axis: Axis, at: Int)? {
    let large = 2 * m * n * k >= minimumFlops
    guard large || (m >= localRows && n * k >= localRows) else { return nil }
    if driver { return (.rows, (m / 2 + 11) / 12 * 12) }
    if m >= localRows { return (.rows, (m / 2 + 15) / 16 * 16) }
    if n >= 64 && large { return (.columns, (n / 2 + 15) / 16 * 16) }
    return nil
  }

  enum Axis { case rows, columns }

  /// C = op(A)·op(B) + β·C for `batch` row-major members (A: m×k, B: k×n, C: m×n each, stored transposed where
  /// asked; m, n, k > 0), split over the calling thread's lanes as described above.
  static func sgemm(_ pa: UnsafePointer<Float>, _ pb: UnsafePointer<Float>, _ pc: UnsafeMutablePointer<Float>,
                    m: Int, n: Int, k: Int, batch: Int, transposeA: Bool, transposeB: Bool, beta: Float) {
    let lda = transposeA ? m : k, ldb = transposeB ? k : n
    let (ta, tb) = (transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans)
    let driver = BLAS.viaDriver(m: m, n: n, k: k)
    // Rows i0..<i1 and columns j0..<j1 of member e's output.
    func block(_ e: Int, _ i0: Int, _ i1: Int, _ j0: Int, _ j1: Int) {
      guard i1 > i0 && j1 > j0 else { return }
      let a0 = pa + e * m * k + (transposeA ? i0 : i0 * lda)
      let b0 = pb + e * k * n + (transposeB ? j0 * ldb : j0)
      if driver, stitch_gemm_rowmajor(transposeA ? 1 : 0, transposeB ? 1 : 0, i1 - i0, j1 - j0, k, a0, lda, b0, ldb,
                                      beta, pc + e * m * n + i0 * n + j0, n) == 0 { return }
      cblas_sgemm(CblasRowMajor, ta, tb, Int32(i1 - i0), Int32(j1 - j0), Int32(k), 1, a0, Int32(lda), b0, Int32(ldb),
                  beta, pc + e * m * n + i0 * n + j0, Int32(n))
    }
    if current == 2 {
      // Ensembles always halve by member, however small the product: each lane then keeps its members'
      // activations and gradients in its own cache from layer to layer (a product left to one lane reads and
      // writes the other lane's members, which costs more than the hand-off: see `localRows`).
      if batch >= 2 {
        let half = (batch + 1) / 2
        fork { lane in
          for e in (lane == 0 ? 0..<half : half..<batch) { block(e, 0, m, 0, n) }
        }
        return
      }
      if batch == 1, let (axis, at) = split(m: m, n: n, k: k, driver: driver) {
        fork { lane in
          switch (axis, lane) {
          case (.rows, 0): block(0, 0, at, 0, n)
          case (.rows, _): block(0, at, m, 0, n)
          case (.columns, 0): block(0, 0, m, 0, at)
          case (.columns, _): block(0, 0, m, at, n)
          }
        }
        return
      }
    }
    for e in 0..<batch { block(e, 0, m, 0, n) }
  }
}
