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
/// With 2 lanes, `Tensor.gemm` splits each large enough product in two: the output's rows halve at a multiple of
/// 12 (or, when there are fewer than 64 rows and the kernel allows it, its columns at a multiple of 16), and
/// ensembles halve by member; the calling thread
/// computes one half and a helper thread (`CForkJoin`: spinning between products, parked when idle) the other,
/// each with single-threaded OpenBLAS. Measured here (benchmarks/RESULTS.md, "product lanes"): on thin products,
/// where OpenBLAS's own second thread gains nothing or loses, 1.6–4.7x one thread (NT 256×256×17: 127.5 GFLOP/s
/// against OpenBLAS's 77.5; NT 256×6×256: 183.8 against 27.8); on square and large ones level with OpenBLAS's
/// split (1.7–1.9x). Whole updates gain 1.5–2.0x from the second core.
///
/// Ensemble products always halve by member. Other products with fewer than `minimumFlops` FLOPs stay on one
/// lane unless they have `localRows` rows or more (then they split by rows, to keep each lane's rows in its own
/// cache), and so do products with both M and N under 64.
/// Results: every split computes each output element exactly as one thread does, so runs with 2 lanes are
/// bit-identical to runs with 1 (tested at training shapes under whatever kernel the machine gives). That holds
/// only where the split respects the kernel (`split`): OpenBLAS's Haswell (AVX2) kernel, and Stitch's driver over
/// it, take the row-major output's rows 12 at a time with a different summation order in the edge tiles, so rows
/// split at multiples of 12 and columns never; OpenBLAS's AVX-512 kernels (SkylakeX, Cooperlake) switch to a
/// small-matrix kernel below size thresholds, so a product stays whole where its halves would take the other
/// kernel than the whole. Measured for every transpose at 17 training shapes and every split multiple of 4 up to
/// 48 (benchmarks/split_identity_probe.c; 2026-12-01, Zen 5, OpenBLAS 0.3.21): Haswell rows keep every element
/// at multiples of 12 only, its columns at none; SkylakeX keeps rows at multiples of 12 and columns at multiples
/// of 16 except where the small-kernel decision flips.
///
/// Products on another backend (oneDNN, libxsmm: `GemmPlan`) split into the same halves on one lane as on two,
/// run one after the other on one lane, so that their bits never depend on how a library's kernels treat a half.
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
    var plan: GemmPlan?
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
  /// This thread's sgemm plan, where it has one (a run's recorded plan, set by the trainer), else nil: the
  /// process's `BLAS.gemmPlan`. Read once per product, before any split, so a helper lane follows its caller.
  public static var plan: GemmPlan? {
    get {
      guard let p = pthread_getspecific(key) else { return nil }
      return Unmanaged<State>.fromOpaque(p).takeUnretainedValue().plan
    }
    set { state.plan = newValue }
  }

  /// Runs `body` with this thread's sgemm plan set to `plan` (nil: the process's), then restores the previous one.
  public static func with<R>(plan: GemmPlan?, _ body: () throws -> R) rethrows -> R {
    let saved = self.plan
    self.plan = plan
    defer { self.plan = saved }
    return try body()
  }

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

  /// The rows (`.rows`) or columns (`.columns`) at which a row-major M×N×K product (A, B transposed as given)
  /// splits, or nil to keep it whole, for the sgemm kernel `kernel` (`.haswellLike` when the product runs on
  /// `BLAS.viaDriver`). Rows split at a multiple of 12 whatever the kernel: the Haswell micro-kernel (OpenBLAS's,
  /// and under Stitch's driver) takes the output's rows 12 at a time and only there keeps every element of the
  /// whole product (benchmarks/sgemm_driver_probe.c, benchmarks/split_identity_probe.c); the AVX-512
  /// kernels keep them at any multiple of 4. Columns split only under the AVX-512 kernels, at a multiple of 16.
  /// Under those, a split is refused where a half would take OpenBLAS's small-matrix kernel and the whole not (or
  /// the reverse), since the two kernels sum in different orders (`avx512SmallKernel`).
  static func split(m: Int, n: Int, k: Int, transposeA: Bool = false, transposeB: Bool = false,
                    kernel: SplitKernel = .current) -> (axis: Axis, at: Int)? {
    let large = 2 * m * n * k >= minimumFlops
    guard large || (m >= localRows && n * k >= localRows) else { return nil }
    // Whether both parts (m₁×n₁, m₂×n₂) take the same OpenBLAS kernel as the whole (always, off the AVX-512 ones).
    func sameKernel(_ m1: Int, _ n1: Int, _ m2: Int, _ n2: Int) -> Bool {
      guard kernel == .avx512 else { return true }
      let whole = avx512SmallKernel(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB)
      return avx512SmallKernel(m: m1, n: n1, k: k, transposeA: transposeA, transposeB: transposeB) == whole
        && avx512SmallKernel(m: m2, n: n2, k: k, transposeA: transposeA, transposeB: transposeB) == whole
    }
    if m >= localRows {
      let at = (m / 2 + 11) / 12 * 12
      return sameKernel(at, n, m - at, n) ? (.rows, at) : nil
    }
    if n >= 64 && large && kernel == .avx512 {
      let at = (n / 2 + 15) / 16 * 16
      return sameKernel(m, at, m, n - at) ? (.columns, at) : nil
    }
    return nil
  }

  /// The sgemm code a product runs on, as far as splitting it is concerned.
  enum SplitKernel: Equatable {
    /// Stitch's driver over the Haswell micro-kernel, or an OpenBLAS kernel other than the AVX-512 ones
    /// (Haswell, Zen and any unknown: treated like Haswell, which is the conservative rule).
    case haswellLike
    /// OpenBLAS's SkylakeX / Cooperlake / SapphireRapids kernels, with their small-matrix path.
    case avx512

    /// The kernel of `cblas_sgemm` in this process (OpenBLAS picks it once, when it loads).
    static let current: SplitKernel = BLAS.avx512Cores.contains(BLAS.coreName) ? .avx512 : .haswellLike
  }

  /// Whether OpenBLAS's AVX-512 sgemm runs a row-major product on its small-matrix kernel: OpenBLAS 0.3.x's
  /// `sgemm_small_kernel_permit_skylakex.c`, after CBLAS's row-major-to-column-major swap (M' = n, N' = m, A' = B,
  /// B' = A): never when M'·N'·K > 100³; never for TT; for TN (row-major A plain, B transposed) only when
  /// M'·N' ≤ 1200 and K ≥ 32. These are the cases the split check found to change bits (e.g. row-major NT
  /// 256×6×256: 6·256 = 1536 > 1200 takes the general kernel, its 128-row halves the small one).
  static func avx512SmallKernel(m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool) -> Bool {
    let (mc, nc, transA, transB) = (n, m, transposeB, transposeA)
    if Double(mc) * Double(nc) * Double(k) > 1e6 { return false }
    if transA {
      if transB { return false }
      if mc * nc > 1200 || k < 32 { return false }
    }
    return true
  }

  enum Axis { case rows, columns }

  /// C = op(A)·op(B) + β·C for `batch` row-major members (A: m×k, B: k×n, C: m×n each, stored transposed where
  /// asked; m, n, k > 0), split over the calling thread's lanes as described above.
  static func sgemm(_ pa: UnsafePointer<Float>, _ pb: UnsafePointer<Float>, _ pc: UnsafeMutablePointer<Float>,
                    m: Int, n: Int, k: Int, batch: Int, transposeA: Bool, transposeB: Bool, beta: Float,
                    plan: GemmPlan? = nil) {
    let lda = transposeA ? m : k, ldb = transposeB ? k : n
    let (ta, tb) = (transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans)
    // The backend is chosen for the whole product, before any split, so both halves run the same code.
    let backend = BLAS.backend(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB, beta: beta, plan: plan)
    let driver = backend == .openblas && BLAS.viaDriver(m: m, n: n, k: k)
    // Rows i0..<i1 and columns j0..<j1 of member e's output.
    func block(_ e: Int, _ i0: Int, _ i1: Int, _ j0: Int, _ j1: Int) {
      guard i1 > i0 && j1 > j0 else { return }
      let a0 = pa + e * m * k + (transposeA ? i0 : i0 * lda)
      let b0 = pb + e * k * n + (transposeB ? j0 * ldb : j0)
      if backend != .openblas, stitch_backend_sgemm(backend.code, transposeA ? 1 : 0, transposeB ? 1 : 0, i1 - i0, j1 - j0, k,
                                                    a0, lda, b0, ldb, beta, pc + e * m * n + i0 * n + j0, n) == 0 { return }
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
    }
    // A product on another backend than OpenBLAS splits the same way on one lane as on two, its halves one after
    // the other: whether such a library sums an element in the same order for a half as for the whole (and
    // whether it has a kernel for the half at all, or leaves it to OpenBLAS) is its own affair and differs by
    // CPU (libxsmm without a JIT target leaves every product to OpenBLAS's AVX-512 kernel, whose small-matrix
    // path then changes bits at a split). Computing the same halves whatever the lanes keeps two lanes
    // bit-identical to one on every CPU; OpenBLAS and Stitch's driver, whose kernels `split` knows, stay whole.
    if batch == 1, current == 2 || backend != .openblas,
       let (axis, at) = split(m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                              kernel: backend != .openblas || driver ? .haswellLike : .current) {
      let half: (Int) -> Void = { lane in
        switch (axis, lane) {
        case (.rows, 0): block(0, 0, at, 0, n)
        case (.rows, _): block(0, at, m, 0, n)
        case (.columns, 0): block(0, 0, m, 0, at)
        case (.columns, _): block(0, 0, m, at, n)
        }
      }
      if current == 2 { fork(half) } else { half(0); half(1) }
      return
    }
    for e in 0..<batch { block(e, 0, m, 0, n) }
  }
}
