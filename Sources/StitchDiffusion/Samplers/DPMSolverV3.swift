import Foundation

import StitchTensor

/// DPM-Solver-v3 (Zheng, Lu, Chen, Zhu, NeurIPS 2023, arXiv 2310.13268): a multistep exponential integrator of
/// the probability-flow ODE in λ = log(α/σ) whose linear part and reparameterisation come from the model's
/// empirical statistics l, s, b (`EmpiricalModelStatistics`). With f = (σε − l·x)/α = (1 − l)·x/α − x̂₀ and, for a
/// step that starts at λ_s, g(λ) = e^{−∫_{λs}^{λ} s}·f − ∫_{λs}^{λ} e^{−∫_{λs}^{r} s}·b dr (eq. 8), the exact solution
/// is x_t/α_t = A·[x_s/α_s − ∫_{λs}^{λt} E_s(λ)(g + B_s(λ)) dλ] (eq. 9), A = e^{−∫ l}, E_s = e^{∫_{λs}^{λ}(l + s)}.
/// Writing L, S, I, B, C for the cumulative trapezoid integrals on the EMS grid (L = ∫l, S = ∫s, I = ∫e^{L+S},
/// B = ∫e^{−S}b, C = ∫e^{L+S}B) and expanding g in a Taylor series at λ_s (eq. 13–14), one step is
/// x_t = (α_t/α_s)e^{L_s−L_t}·x_s − α_t e^{−L_t−S_s}(I_t − I_s)·g_s − α_t e^{−L_t}(C_t − C_s − B_s(I_t − I_s))
///       − Σ_{k=1..p−1} α_t e^{L_s−L_t}·E⁽ᵏ⁾·ĝ⁽ᵏ⁾,   E⁽ᵏ⁾ = ∫_{λs}^{λt} e^{(L+S)(λ) − (L+S)_s}(λ − λ_s)ᵏ/k! dλ,
/// with the derivatives ĝ⁽ᵏ⁾ from the Vandermonde system through the p − 1 previous points (the reference's
/// non-pseudo mode). The corrector (paper Alg. 2, UniPC-style, no extra evaluation) redoes the last step with
/// the point just evaluated in place of the oldest one; f at the corrected point is kept (the reference adjusts
/// ε so that N = σε − l·x is unchanged). Orders warm up from 1 and, with `lowerOrderFinal`, fall back to the number
/// of remaining steps, as the reference (order 3, 10 steps: 1,2,3,3,3,3,3,3,2,1). Step times are snapped to the
/// EMS grid (no interpolation, as the reference), so the grid must be much finer than the step count.
/// With l ≡ 1, s ≡ b ≡ 0 the first-order step is DDIM and the second-order one DPM-Solver++(2M) in its Taylor form.
public struct DPMSolverV3: DiffusionSampler {
  public var statistics: EmpiricalModelStatistics
  public var solverOrder: Int
  public var useCorrector: Bool
  public var lowerOrderFinal: Bool
  /// Per grid point and dimension: L, S, I, B, C.
  let integrals: (L: [[Double]], S: [[Double]], I: [[Double]], B: [[Double]], C: [[Double]])

  public init(statistics: EmpiricalModelStatistics, solverOrder: Int = 3, useCorrector: Bool = true, lowerOrderFinal: Bool = true) {
    self.statistics = statistics
    self.solverOrder = Swift.max(1, Swift.min(solverOrder, 3))
    self.useCorrector = useCorrector
    self.lowerOrderFinal = lowerOrderFinal
    integrals = Self.cumulativeIntegrals(statistics)
  }

  /// The CLI id; the sampler is built per model (it needs the model's statistics), so it is not in `Samplers.all`.
  public static let cliID = "dpm-solver-v3"
  public var id: String { Self.cliID }
  public var order: Int { solverOrder }

  public enum SamplingError: Error, CustomStringConvertible {
    case mismatch(String)
    public var description: String {
      switch self { case .mismatch(let m): return "dpm-solver-v3: \(m)" }
    }
  }

  /// y₀ = 0, yₙ = yₙ₋₁ + ½Δλ·(wₙe^{aₙ} + wₙ₋₁e^{aₙ₋₁}) per dimension (the reference's cumulative trapezoid).
  static func cumulativeTrapezoid(_ lambdas: [Double], exponent a: [[Double]]?, weight w: [[Double]]?, dimension d: Int) -> [[Double]] {
    var out = [[Double]](repeating: [Double](repeating: 0, count: d), count: lambdas.count)
    for j in 1..<lambdas.count {
      let dl = lambdas[j] - lambdas[j - 1]
      for q in 0..<d {
        let now = (w?[j][q] ?? 1) * exp(a?[j][q] ?? 0), before = (w?[j - 1][q] ?? 1) * exp(a?[j - 1][q] ?? 0)
        out[j][q] = out[j - 1][q] + 0.5 * dl * (now + before)
      }
    }
    return out
  }

  static func cumulativeIntegrals(_ e: EmpiricalModelStatistics) -> (L: [[Double]], S: [[Double]], I: [[Double]], B: [[Double]], C: [[Double]]) {
    let d = e.dimension
    let L = cumulativeTrapezoid(e.lambdas, exponent: nil, weight: e.l, dimension: d)
    let S = cumulativeTrapezoid(e.lambdas, exponent: nil, weight: e.s, dimension: d)
    let LS = zip(L, S).map { zip($0, $1).map { $0 + $1 } }
    let I = cumulativeTrapezoid(e.lambdas, exponent: LS, weight: nil, dimension: d)
    let B = cumulativeTrapezoid(e.lambdas, exponent: S.map { $0.map { -$0 } }, weight: e.b, dimension: d)
    let C = cumulativeTrapezoid(e.lambdas, exponent: LS, weight: B, dimension: d)
    return (L, S, I, B, C)
  }

  /// A cached point: the state, f there, and its grid index.
  struct Point { var x: [Double]; var f: [Double]; var index: Int }

  public func sample(_ x: inout [Double], times: [Double], schedule: any NoiseSchedule, model: Denoiser, rng: inout RandomStream) throws {
    let e = statistics, d = e.dimension, n = e.gridSize
    guard x.count % d == 0 else { throw SamplingError.mismatch("\(x.count) values are not rows of the statistics' dimension \(d)") }
    let (lo, hi) = (e.lambdas[0], e.lambdas[n])
    let indices = times.map { Int(((schedule.lambda($0) - lo) / (hi - lo) * Double(n)).rounded()) }
    guard indices.allSatisfy({ (0...n).contains($0) }) else {
      throw SamplingError.mismatch("step times reach outside the statistics' λ range [\(lo), \(hi)]")
    }
    guard zip(indices, indices.dropFirst()).allSatisfy({ $0 < $1 }) else {
      throw SamplingError.mismatch("\(times.count - 1) steps on a grid of \(n) intervals put two steps on one grid point: use a finer grid")
    }
    let steps = times.count - 1
    var cache: [Point] = []
    var previousOrder = 0
    for step in 1...steps {
      let j = indices[step - 1]
      let t = schedule.time(lambda: e.lambdas[j])
      let m = try model(x, t)
      let alpha = schedule.alpha(t)
      let f = (0..<x.count).map { (1 - e.l[j][$0 % d]) * x[$0] / alpha - m[$0] }
      cache.append(Point(x: x, f: f, index: j))
      if cache.count > 4 { cache.removeFirst() }
      if useCorrector && previousOrder > 1 && cache.count >= 2 {
        // Redo the step into the newest point, using it in place of the oldest point the predictor used.
        var points = [cache.count - 2, cache.count - 1]
        var k = cache.count - 3
        while points.count < previousOrder && k >= 0 { points.append(k); k -= 1 }
        let corrected = update(cache, points: points, to: j, schedule: schedule)
        cache[cache.count - 1].x = corrected
        x = corrected
      }
      var order = Swift.min(step, solverOrder)
      if lowerOrderFinal { order = Swift.min(order, steps + 1 - step) }
      order = Swift.min(order, cache.count)
      previousOrder = order
      let points = Array((0..<cache.count).reversed().prefix(order))
      x = update(cache, points: points, to: indices[step], schedule: schedule)
    }
  }

  /// One step from `cache[points[0]]` to grid index `target`, with g's derivatives at the start from the other
  /// points (Vandermonde system in δ_k = λ_k − λ_s).
  func update(_ cache: [Point], points: [Int], to target: Int, schedule: any NoiseSchedule) -> [Double] {
    let e = statistics, d = e.dimension
    let (L, S, I, B, C) = integrals
    let start = cache[points[0]]
    let (js, jt) = (start.index, target)
    let (ls, lt) = (e.lambdas[js], e.lambdas[jt])
    let (ts, tt) = (schedule.time(lambda: ls), schedule.time(lambda: lt))
    let (alphaS, alphaT) = (schedule.alpha(ts), schedule.alpha(tt))
    // g of every point relative to λ_s: g_i = e^{S_s − S_i}·f_i − e^{S_s}(B_i − B_s).
    // The exponentials depend on the dimension only: computed once per dimension, not once per row.
    func g(_ p: Point) -> [Double] {
      let scale = (0..<d).map { exp(S[js][$0] - S[p.index][$0]) }
      let shift = (0..<d).map { exp(S[js][$0]) * (B[p.index][$0] - B[js][$0]) }
      return (0..<p.f.count).map { i in scale[i % d] * p.f[i] - shift[i % d] }
    }
    let gs = g(start)
    let extra = points.count - 1
    // ĝ⁽ᵏ⁾ = k!·c_k with Σ_k δ_iᵏ c_k = g_i − g_s (i = 1…extra).
    var derivatives: [[Double]] = []
    if extra > 0 {
      let deltas = points.dropFirst().map { e.lambdas[cache[$0].index] - ls }
      let matrix = deltas.map { dl in (1...extra).map { pow(dl, Double($0)) } }
      let inverse = Self.invert(matrix)
      let differences = points.dropFirst().map { p in zip(g(cache[p]), gs).map { $0 - $1 } }
      var factorial = 1.0
      for k in 0..<extra {
        factorial *= Double(k + 1)
        derivatives.append((0..<gs.count).map { i in factorial * (0..<extra).reduce(0) { $0 + inverse[k][$1] * differences[$1][i] } })
      }
    }
    // E⁽ᵏ⁾ per dimension by the trapezoid rule on the grid between the two step points.
    var moments = [[Double]](repeating: [Double](repeating: 0, count: d), count: extra)
    if extra > 0 {
      for q in 0..<d {
        let base = L[js][q] + S[js][q]
        var previous: [Double]? = nil
        for j in js...jt {
          let u = e.lambdas[j] - ls
          let w = exp(L[j][q] + S[j][q] - base)
          var term = [Double](repeating: 0, count: extra)
          var power = 1.0, factorial = 1.0
          for k in 1...extra {
            power *= u; factorial *= Double(k)
            term[k - 1] = w * power / factorial
          }
          if let previous {
            let dl = e.lambdas[j] - e.lambdas[j - 1]
            for k in 0..<extra { moments[k][q] += 0.5 * dl * (term[k] + previous[k]) }
          }
          previous = term
        }
      }
    }
    let decay = (0..<d).map { exp(L[js][$0] - L[jt][$0]) }
    let gWeight = (0..<d).map { alphaT * exp(-L[jt][$0] - S[js][$0]) * (I[jt][$0] - I[js][$0]) }
    let bias = (0..<d).map { alphaT * exp(-L[jt][$0]) * (C[jt][$0] - C[js][$0] - B[js][$0] * (I[jt][$0] - I[js][$0])) }
    var out = [Double](repeating: 0, count: start.x.count)
    for i in 0..<out.count {
      let q = i % d
      var v = alphaT / alphaS * decay[q] * start.x[i]
      v -= gWeight[q] * gs[i]
      v -= bias[q]
      for k in 0..<extra { v -= alphaT * decay[q] * moments[k][q] * derivatives[k][i] }
      out[i] = v
    }
    return out
  }

  /// The inverse of a small (1×1 or 2×2) Vandermonde-type matrix; larger ones by Gauss–Jordan elimination.
  static func invert(_ a: [[Double]]) -> [[Double]] {
    let n = a.count
    var m = a.enumerated().map { i, row in row + (0..<n).map { $0 == i ? 1.0 : 0.0 } }
    for c in 0..<n {
      let p = (c..<n).max { Swift.abs(m[$0][c]) < Swift.abs(m[$1][c]) }!
      m.swapAt(c, p)
      let pivot = m[c][c]
      m[c] = m[c].map { $0 / pivot }
      for r in 0..<n where r != c {
        let factor = m[r][c]
        m[r] = zip(m[r], m[c]).map { $0 - factor * $1 }
      }
    }
    return m.map { Array($0[n...]) }
  }
}
