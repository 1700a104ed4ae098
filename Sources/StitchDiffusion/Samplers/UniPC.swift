import Foundation

import StitchTensor

/// UniPC (Zhao et al., arXiv 2302.04867) with data prediction: the predictor UniP-p (order p, Cor. 3.2) and the
/// corrector UniC-p (order p + 1, Thm. 3.1), which reuses the evaluation at the predicted point, so correction costs
/// no extra evaluation. With h = λ_t − λ_s₀, hh = −h, φ₁ = e^{hh} − 1, B(h) = hh (`bh1`) or e^{hh} − 1 (`bh2`):
/// x_t = (σ_t/σ_s₀)·x − α_t·φ₁·m₀ − α_t·B(h)·Σₖ ρₖ·D₁ₖ, D₁ₖ = (mₖ − m₀)/rₖ, rₖ = (λ_sₖ − λ_s₀)/h,
/// where ρ solves R·ρ = b with Rᵢ = (r₁..r_p, 1)^{i−1} and bᵢ = φ_{i+1}(hh)·i!/B(h) (the recursion
/// φ ← φ/hh − 1/(i+1)!), except ρ = ½ for a second-order predictor and a first-order corrector (the reference's
/// shortcuts; diffusers `UniPCMultistepScheduler.multistep_uni_{p,c}_bh_update`). Default solver order 2 (so the
/// corrected scheme is third order), warm-up with lower orders, and `lowerOrderFinal` as diffusers (order at most
/// the number of remaining steps).
public struct UniPCSampler: DiffusionSampler {
  public enum Variant: String, Sendable { case bh1, bh2 }
  public var variant: Variant
  public var solverOrder: Int
  public var lowerOrderFinal: Bool
  public init(_ variant: Variant, solverOrder: Int = 2, lowerOrderFinal: Bool = true) {
    self.variant = variant
    self.solverOrder = Swift.max(1, Swift.min(solverOrder, 3))
    self.lowerOrderFinal = lowerOrderFinal
  }
  public var id: String { "unipc-" + variant.rawValue }
  public var order: Int { solverOrder + 1 }

  public func sample(_ x: inout [Double], times: [Double], schedule: any NoiseSchedule, model: Denoiser, rng: inout RandomStream) throws {
    let n = times.count - 1
    let lambdas = times.map { schedule.lambda($0) }
    var outputs: [[Double]] = []  // data predictions, newest last
    var outputIndex: [Int] = []   // their time indices
    var lastSample: [Double]? = nil
    var lastOrder = 1
    for i in 0..<n {
      let m = try model(x, times[i])
      if let previous = lastSample {
        // Correct x (predicted at times[i]) with the evaluation just made there.
        x = update(previous, outputs: outputs, indices: outputIndex, newest: m, to: i, order: lastOrder, lambdas: lambdas, times: times, schedule: schedule)
      }
      outputs.append(m)
      outputIndex.append(i)
      if outputs.count > solverOrder { outputs.removeFirst(); outputIndex.removeFirst() }
      var order = solverOrder
      if lowerOrderFinal { order = Swift.min(order, n - i) }
      order = Swift.min(order, outputs.count)
      lastOrder = order
      lastSample = x
      x = update(x, outputs: outputs, indices: outputIndex, newest: nil, to: i + 1, order: order, lambdas: lambdas, times: times, schedule: schedule)
    }
  }

  /// The predictor (newest == nil: from the last output at `indices.last` to time index `target`) or the
  /// corrector (newest = evaluation at `target`, outputs end at the previous point).
  func update(_ x: [Double], outputs: [[Double]], indices: [Int], newest: [Double]?, to target: Int, order: Int,
              lambdas: [Double], times: [Double], schedule: any NoiseSchedule) -> [Double] {
    let s0 = indices[indices.count - 1]
    let m0 = outputs[outputs.count - 1]
    let h = lambdas[target] - lambdas[s0]
    var rks: [Double] = []
    var d1s: [[Double]] = []
    for k in 1..<order {
      let sk = indices[indices.count - 1 - k]
      let rk = (lambdas[sk] - lambdas[s0]) / h
      rks.append(rk)
      d1s.append(Vec.combine([(1 / rk, outputs[outputs.count - 1 - k]), (-1 / rk, m0)]))
    }
    rks.append(1)
    let hh = -h
    let phi1 = expm1(hh)
    let bh = variant == .bh1 ? hh : expm1(hh)
    var hPhiK = phi1 / hh - 1
    var factorial = 1.0
    var matrix: [[Double]] = []
    var b: [Double] = []
    for i in 1...order {
      matrix.append(rks.map { pow($0, Double(i - 1)) })
      b.append(hPhiK * factorial / bh)
      factorial *= Double(i + 1)
      hPhiK = hPhiK / hh - 1 / factorial
    }
    let aT = schedule.alpha(times[target])
    let ratio = schedule.sigma(times[target]) / schedule.sigma(times[s0])
    var terms: [(Double, [Double])] = [(ratio, x), (-aT * phi1, m0)]
    if let newest {
      // Corrector: ρ_c solves the full system (ρ = ½ for order 1); the last coefficient weighs D1_t = m_t − m0.
      let rho = order == 1 ? [0.5] : Self.solve(matrix, b)
      for k in 0..<d1s.count { terms.append((-aT * bh * rho[k], d1s[k])) }
      terms.append((-aT * bh * rho[rho.count - 1], newest))
      terms.append((aT * bh * rho[rho.count - 1], m0))
    } else if !d1s.isEmpty {
      // Predictor: ρ_p solves the system without its last row and column (ρ = ½ for order 2).
      let rho = order == 2 ? [0.5] : Self.solve(Array(matrix.dropLast().map { Array($0.dropLast()) }), Array(b.dropLast()))
      for k in 0..<d1s.count { terms.append((-aT * bh * rho[k], d1s[k])) }
    }
    return Vec.combine(terms)
  }

  /// Solves a small dense system by Gaussian elimination with partial pivoting.
  static func solve(_ a: [[Double]], _ b: [Double]) -> [Double] {
    var m = a, v = b
    let n = v.count
    for c in 0..<n {
      let p = (c..<n).max { Swift.abs(m[$0][c]) < Swift.abs(m[$1][c]) }!
      m.swapAt(c, p)
      v.swapAt(c, p)
      for r in (c + 1)..<n where n > c + 1 {
        let f = m[r][c] / m[c][c]
        for k in c..<n { m[r][k] -= f * m[c][k] }
        v[r] -= f * v[c]
      }
    }
    var x = [Double](repeating: 0, count: n)
    for r in stride(from: n - 1, through: 0, by: -1) {
      var s = v[r]
      for k in (r + 1)..<n where n > r + 1 { s -= m[r][k] * x[k] }
      x[r] = s / m[r][r]
    }
    return x
  }
}
