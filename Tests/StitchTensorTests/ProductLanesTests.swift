import Testing
@testable import StitchTensor

import StitchTestSupport

/// Products split over two lanes (ProductLanes) against a double-precision oracle and against one lane.
@Suite struct ProductLanesTests {
  static func values(_ count: Int, seed: Int) -> [Float] {
    (0..<count).map { i in Float(((i &* 2_654_435_761 &+ seed &* 97) % 1_000) - 500) / 700 }
  }

  /// op(A)·op(B) in Double from the stored layouts (rank 2).
  static func oracle(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int, ta: Bool, tb: Bool) -> [Double] {
    var c = [Double](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n {
      var s = 0.0
      for p in 0..<k { s += Double(ta ? a[p * m + i] : a[i * k + p]) * Double(tb ? b[j * k + p] : b[p * n + j]) }
      c[i * n + j] = s
    } }
    return c
  }

  static func withLanes<R>(_ lanes: Int, _ body: () -> R) -> R {
    TestSupport.useOneBLASThread()
    let saved = ProductLanes.current
    ProductLanes.current = lanes
    defer { ProductLanes.current = saved }
    return body()
  }

  /// Which products split, and where: tall products by rows however small (each lane keeps its own rows) at a
  /// multiple of 12, wide ones by columns only when large and only under the AVX-512 kernels, tiny ones not at
  /// all; no split where a half would take OpenBLAS's AVX-512 small-matrix kernel and the whole not.
  @Test func splitPoints() {
    func at(_ m: Int, _ n: Int, _ k: Int, ta: Bool = false, tb: Bool = false, _ kernel: ProductLanes.SplitKernel) -> String? {
      ProductLanes.split(m: m, n: n, k: k, transposeA: ta, transposeB: tb, kernel: kernel).map { "\($0.axis)\($0.at)" }
    }
    for kernel in [ProductLanes.SplitKernel.haswellLike, .avx512] {
      #expect(at(256, 1, 256, kernel) == "rows132")  // 0.13 MFLOP
      #expect(at(256, 256, 256, kernel) == "rows132")
      #expect(at(1024, 64, 64, kernel) == "rows516")
      #expect(at(6, 256, 256, kernel) == nil)   // 0.79 MFLOP, only 6 rows
      #expect(at(64, 1, 16, kernel) == nil)     // too little work per row to be worth a hand-off
      #expect(at(8, 8, 8, kernel) == nil)
    }
    #expect(at(32, 256, 256, .avx512) == "columns128")  // 4.2 MFLOP
    #expect(at(32, 256, 256, .haswellLike) == nil)       // the Haswell kernel's columns never split exactly
    // Row-major NT 256×6×256: the whole product (6·256 = 1536 > 1200) takes OpenBLAS's general AVX-512 kernel,
    // 132- and 124-row halves would take the small one; NN 256×17×256 crosses the 100³ size limit the same way.
    #expect(at(256, 6, 256, tb: true, .avx512) == nil)
    #expect(at(256, 6, 256, tb: true, .haswellLike) == "rows132")
    #expect(at(256, 17, 256, .avx512) == nil)
    #expect(at(256, 6, 256, .avx512) == "rows132")        // NN: small kernel for the whole and both halves
    #expect(ProductLanes.avx512SmallKernel(m: 128, n: 6, k: 256, transposeA: false, transposeB: true))
    #expect(!ProductLanes.avx512SmallKernel(m: 256, n: 6, k: 256, transposeA: false, transposeB: true))
    #expect(!ProductLanes.avx512SmallKernel(m: 64, n: 64, k: 64, transposeA: true, transposeB: true))
  }

  /// With the kernel this machine loaded, two lanes give every element of every product exactly as one lane:
  /// the shapes of MLP training (batch 256 and ReBRAC's 1024, widths 1–256, inputs 2–23), every transpose case.
  /// This is what makes two-lane training runs bit-identical to one-lane runs.
  @Test(arguments: [(256, 256, 256), (256, 6, 256), (256, 1, 256), (256, 256, 17), (256, 17, 256), (256, 256, 6),
                    (1024, 64, 64), (1024, 2, 64), (1024, 64, 2), (64, 64, 1024), (64, 1, 1024), (300, 40, 129),
                    (32, 256, 256), (96, 256, 256)])
  func splitProductsAreBitIdenticalToOneLane(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
      let a = Tensor(shape: ta ? [k, m] : [m, k], scalars: Self.values(m * k, seed: m + 7))
      let b = Tensor(shape: tb ? [n, k] : [k, n], scalars: Self.values(k * n, seed: n + 3))
      let one = Self.withLanes(1) { Tensor.matmul(a, b, transposeA: ta, transposeB: tb) }
      let two = Self.withLanes(2) { Tensor.matmul(a, b, transposeA: ta, transposeB: tb) }
      #expect(one.isIdentical(to: two), "\(m)x\(n)x\(k) ta=\(ta) tb=\(tb) under \(BLAS.coreName): two lanes change bits")
    }
  }

  /// Row splits (M ≥ 64), column splits (M < 64, N ≥ 64) and whole products (too small), every transpose case.
  @Test(arguments: [(256, 256, 256), (300, 40, 129), (17, 256, 256), (6, 256, 256), (256, 6, 256), (40, 40, 400), (8, 8, 8)])
  func splitProductsMatchTheOracle(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
      let a = Self.values(m * k, seed: m), b = Self.values(k * n, seed: n + 1)
      let ta_ = Tensor(shape: ta ? [k, m] : [m, k], scalars: a), tb_ = Tensor(shape: tb ? [n, k] : [k, n], scalars: b)
      let one = Self.withLanes(1) { Tensor.matmul(ta_, tb_, transposeA: ta, transposeB: tb).scalars }
      let two = Self.withLanes(2) { Tensor.matmul(ta_, tb_, transposeA: ta, transposeB: tb).scalars }
      let exact = Self.oracle(a, b, m: m, n: n, k: k, ta: ta, tb: tb)
      let worst = zip(two, exact).map { abs(Double($0) - $1) / max(1, abs($1)) }.max() ?? 0
      #expect(worst < 1e-5, "\(m)x\(n)x\(k) ta=\(ta) tb=\(tb): relative error \(worst)")
      let spread = zip(one, two).map { abs($0 - $1) }.max() ?? 0
      #expect(spread < 1e-4, "one lane and two lanes differ by \(spread)")
    }
  }

  /// Ensemble products split by member compute each member exactly as one lane does.
  @Test func ensembleSplitIsBitIdentical() {
    let (e, m, k, n) = (5, 256, 64, 96)
    let a = Tensor(shape: [e, m, k], scalars: Self.values(e * m * k, seed: 3))
    let b = Tensor(shape: [e, k, n], scalars: Self.values(e * k * n, seed: 4))
    let one = Self.withLanes(1) { Tensor.matmul(a, b).scalars }
    let two = Self.withLanes(2) { Tensor.matmul(a, b).scalars }
    #expect(one == two)
  }

  /// A linear layer with a narrow input (bias pre-filled, sgemm β = 1) and its gradients, split and not.
  @Test func linearLayerAndGradientsAgreeAcrossLanes() throws {
    let x = Tensor(shape: [256, 17], scalars: Self.values(256 * 17, seed: 5))
    let w = Tensor(shape: [256, 17], scalars: Self.values(256 * 17, seed: 6))
    let bias = Tensor(Self.values(256, seed: 7))
    func run() throws -> [Float] {
      let (loss, g) = try gradients(at: [x, w]) { t in Tensor.linear(t[0], weight: t[1], bias: bias, activation: .relu).square().mean() }
      return [loss] + g[0].scalars + g[1].scalars
    }
    let one = try Self.withLanes(1) { Result { try run() } }.get()
    let two = try Self.withLanes(2) { Result { try run() } }.get()
    let spread = zip(one, two).map { abs($0 - $1) / max(1e-3, abs($0)) }.max() ?? 0
    #expect(spread < 1e-4)
    #expect(one.count == 1 + 2 * 256 * 17)
  }

  /// The setting is per thread and clamped to 1...2.
  @Test func lanesAreClampedAndPerThread() {
    Self.withLanes(7) { #expect(ProductLanes.current == 2) }
    Self.withLanes(0) { #expect(ProductLanes.current == 1) }
  }

  /// The fork-join runs each lane exactly once per hand-off, whichever thread ends up running lane 1 (the helper,
  /// or the caller when it finishes first and the helper has not started), over many hand-offs with lane 0 instant,
  /// slow, and alternating.
  @Test func everyForkRunsEachLaneExactlyOnce() {
    // One slot per lane, each written only by whichever thread runs that lane.
    let slots = UnsafeMutablePointer<Int>.allocate(capacity: 2)
    slots.initialize(repeating: 0, count: 2)
    defer { slots.deallocate() }
    nonisolated(unsafe) let counts = slots
    var consistent = true
    Self.withLanes(2) {
      for i in 0..<20_000 {
        ProductLanes.fork { lane in
          if lane == 0 && i % 3 == 1 { for k in 0..<(i % 200) { counts[0] &+= k & 0 } }  // a slower lane 0 sometimes
          counts[lane] += 1
        }
        if counts[0] != i + 1 || counts[1] != i + 1 { consistent = false; break }
      }
    }
    #expect(consistent)
    #expect(counts[0] == 20_000 && counts[1] == 20_000)
  }

  struct Stop: Error, Equatable { let lane: Int }

  /// Whole pieces of work on two lanes at once: each runs with 1 lane for its own products, both record
  /// gradients on their own tapes at the same time, and the results equal the same pieces run one after the other.
  @Test func concurrentPiecesMatchSequentialOnes() throws {
    let x = Tensor(shape: [256, 64], scalars: Self.values(256 * 64, seed: 8))
    let w1 = Tensor(shape: [256, 64], scalars: Self.values(256 * 64, seed: 9))
    let w2 = Tensor(shape: [128, 64], scalars: Self.values(128 * 64, seed: 10))
    func piece(_ w: Tensor) throws -> (lanes: Int, values: [Float]) {
      let (loss, g) = try gradients(at: [w]) { t in Tensor.linear(x, weight: t[0], bias: nil, activation: .tanh).square().mean() }
      return (ProductLanes.current, [loss] + g[0].scalars)
    }
    let sequential = (try piece(w1).values, try piece(w2).values)
    try Self.withLanes(2) {
      Result {
        for _ in 0..<200 {
          let (a, b) = try ProductLanes.concurrently({ try piece(w1) }, { try piece(w2) })
          #expect(a.lanes == 1 && b.lanes == 1)
          #expect(a.values == sequential.0 && b.values == sequential.1)
          #expect(ProductLanes.current == 2)
        }
      }
    }.get()
  }

  /// Errors come back from either lane (the first piece's when both throw), and lanes 1 runs the pieces in order.
  @Test func concurrentPiecesRethrow() {
    for lanes in [1, 2] {
      Self.withLanes(lanes) {
        #expect(throws: Stop(lane: 1)) { _ = try ProductLanes.concurrently({ 0 }, { () throws -> Int in throw Stop(lane: 1) }) }
        #expect(throws: Stop(lane: 0)) { _ = try ProductLanes.concurrently({ () throws -> Int in throw Stop(lane: 0) }, { 1 }) }
        #expect(throws: Stop(lane: 0)) {
          _ = try ProductLanes.concurrently({ () throws -> Int in throw Stop(lane: 0) }, { () throws -> Int in throw Stop(lane: 1) })
        }
      }
    }
    var order: [Int] = []
    _ = Self.withLanes(1) { try? ProductLanes.concurrently({ order.append(0) }, { order.append(1) }) }
    #expect(order == [0, 1])
  }

  /// `parallelFor` covers every index exactly once, split or not, for element and row counts around the threshold.
  @Test func parallelForCoversEachIndexOnce() {
    for (count, each) in [(0, 1), (1, 1), (17, 1), (1 << 15, 1), ((1 << 15) + 7, 1), (100_003, 1), (3, 1 << 15), (256, 256), (255, 129)] {
      var hits = [Int](repeating: 0, count: count)
      hits.withUnsafeMutableBufferPointer { h in
        Self.withLanes(2) { ProductLanes.parallelFor(count, elementsEach: each) { r in for i in r { h[i] += 1 } } }
      }
      #expect(hits.allSatisfy { $0 == 1 }, "count \(count) × \(each)")
    }
  }

  /// Elementwise work split over two lanes (activations and their gradients, bias adds and bias gradients,
  /// gradient accumulation, Polyak averaging) gives bit-identical results to one lane.
  @Test func elementwiseWorkIsBitIdenticalAcrossLanes() throws {
    let x = Tensor(shape: [2, 256, 200], scalars: Self.values(2 * 256 * 200, seed: 11))
    let w = Tensor(shape: [2, 256, 200], scalars: Self.values(2 * 256 * 200, seed: 12))
    let bias = Tensor(shape: [2, 256], scalars: Self.values(512, seed: 13))
    let narrow = Tensor(shape: [2, 256, 17], scalars: Self.values(2 * 256 * 17, seed: 14))
    let wNarrow = Tensor(shape: [2, 256, 17], scalars: Self.values(2 * 256 * 17, seed: 15))
    func run() throws -> [Float] {
      let (loss, g) = try gradients(at: [x, w, bias]) { t in
        let h = Tensor.linear(t[0], weight: t[1], bias: t[2], activation: .relu)            // bias after, fused ReLU
        let k = Tensor.linear(narrow, weight: wNarrow, bias: t[2], activation: .tanh)       // bias before (k < 128)
        return ((h * h).tanh() + k.sigmoid() + h.exp() * 1e-3).mean()
      }
      var target = w
      target.moveTowards(x, rate: 0.005)
      return [loss] + g.flatMap(\.scalars) + target.scalars
    }
    let one = try Self.withLanes(1) { Result { try run() } }.get()
    let two = try Self.withLanes(2) { Result { try run() } }.get()
    #expect(one.count == two.count)
    #expect(one == two)
  }

  /// Layer normalisation splits rows (forward, ∂x) and columns (∂γ, ∂β sums) over the lanes: ReBRAC's critics
  /// normalise 1024×256 activations; the result must not depend on the lanes. Checked against a direct Double
  /// computation too, so a split that dropped or repeated rows or columns fails here.
  @Test func layerNormIsBitIdenticalAcrossLanes() throws {
    let (rows, d) = (300, 256)
    let x = Tensor(shape: [rows, d], scalars: Self.values(rows * d, seed: 21))
    let gamma = Tensor(shape: [d], scalars: Self.values(d, seed: 22))
    let beta = Tensor(shape: [d], scalars: Self.values(d, seed: 23))
    let upstream = Tensor(shape: [rows, d], scalars: Self.values(rows * d, seed: 24))
    func run() throws -> [[Float]] {
      var y: [Float] = []
      let (_, g) = try gradients(at: [x, gamma, beta]) { t in
        let out = t[0].layerNormalized(scale: t[1], offset: t[2])
        y = out.scalars
        return (out * upstream).sum()
      }
      return [y] + g.map(\.scalars)
    }
    let one = try Self.withLanes(1) { Result { try run() } }.get()
    let two = try Self.withLanes(2) { Result { try run() } }.get()
    #expect(one == two)
    // ∂β = Σ_rows upstream and ∂γ = Σ_rows upstream · x̂, in Double.
    let xs = x.scalars, us = upstream.scalars
    var worst = 0.0
    for j in 0..<d {
      var dBeta = 0.0, dGamma = 0.0
      for r in 0..<rows {
        let row = xs[(r * d)..<(r * d + d)].map(Double.init)
        let mean = row.reduce(0, +) / Double(d)
        let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(d)
        let xhat = (row[j] - mean) / (variance + 1e-5).squareRoot()
        dBeta += Double(us[r * d + j]); dGamma += Double(us[r * d + j]) * xhat
      }
      worst = Swift.max(worst, abs(Double(two[3][j]) - dBeta), abs(Double(two[2][j]) - dGamma))
    }
    #expect(worst < 1e-3, "largest deviation of ∂γ/∂β from Double sums: \(worst)")
  }
}
