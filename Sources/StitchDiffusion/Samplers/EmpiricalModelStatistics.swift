import Foundation

import StitchTensor

/// The empirical model statistics (EMS) of DPM-Solver-v3 (Zheng, Lu, Chen, Zhu, "DPM-Solver-v3: Improved Diffusion
/// ODE Solver with Empirical Model Statistics", NeurIPS 2023, arXiv 2310.13268, §3.1–3.4, App. C.1): per data
/// dimension and per point of a grid uniform in λ = log(α/σ), the coefficients l_λ, s_λ, b_λ that make the
/// solver's reparameterised model f_θ = (σ_λ·ε_θ − l_λ·x)/α_λ as close to linear in λ as the model allows:
/// - l*_λ = E[diag(σ_λ·∇ₓε_θ(x_λ, λ))] (eq. 5), estimated as the batch mean of σ·(J·v)⊙v with one Rademacher
///   probe v per sample (the reference's stochastic diagonal estimator, App. C.1.1);
/// - (s*_λ, b*_λ) = argmin E‖f⁽¹⁾ − s·f − b‖² (eq. 11), an ordinary least-squares line per dimension:
///   s = Cov(f, f⁽¹⁾)/Var(f), b = E[f⁽¹⁾] − s·E[f], with f⁽¹⁾ = e^{−λ}((l − 1)·ε + ε⁽¹⁾) − l̇·x/α (eq. 62), ε⁽¹⁾ the
///   total derivative of ε_θ along the probability-flow ODE dx/dλ = (d log α/dλ)·x − σ·ε (eq. 63), and l̇ the
///   grid derivative of l smoothed by a ±5-point moving average (as the reference's EMS script).
/// Samples x_λ = α·x₀ + σ·z use data rows x₀ and fresh Gaussian z at every grid point. Where the reference takes
/// Jacobian-vector products by forward-mode autodiff, Stitch's denoisers are black boxes (`Denoiser`), so the two
/// products (J·v and the derivative along the ODE) are central finite differences with step δ (`differenceStep`,
/// 1e-3: truncation O(δ²) ≈ 1e-6, and a Float32 network's rounding, amplified by 1/σ in ε and 1/δ in the
/// difference, stays 10x smaller than with 1e-4; on the SynthER hopper model both steps gave the same samples'
/// quality, docs/results.md).
public struct EmpiricalModelStatistics: Sendable {
  /// The grid, N + 1 values uniform in λ from λ(maxTime) (noise) up to λ(minTime) (data).
  public var lambdas: [Double]
  /// Data dimension d (each of l, s, b holds one d-vector per grid point).
  public var dimension: Int
  public var l: [[Double]]
  public var s: [[Double]]
  public var b: [[Double]]

  public var gridSize: Int { lambdas.count - 1 }

  /// The uniform λ grid of `gridSize` intervals over the schedule's sampling range.
  public static func grid(_ schedule: any NoiseSchedule, gridSize: Int) -> [Double] {
    let lo = schedule.lambda(schedule.maxTime), hi = schedule.lambda(schedule.minTime)
    return (0...gridSize).map { lo + (hi - lo) * Double($0) / Double(gridSize) }
  }

  /// l ≡ 1, s ≡ b ≡ 0: the statistics under which DPM-Solver-v3 is DPM-Solver++ with data prediction (paper
  /// App. A.2; the reference's `degenerated=True`): f = −x̂₀.
  public static func degenerate(_ schedule: any NoiseSchedule, gridSize: Int, dimension: Int) -> EmpiricalModelStatistics {
    let n = gridSize + 1
    return EmpiricalModelStatistics(lambdas: grid(schedule, gridSize: gridSize), dimension: dimension,
                                    l: Array(repeating: Array(repeating: 1, count: dimension), count: n),
                                    s: Array(repeating: Array(repeating: 0, count: dimension), count: n),
                                    b: Array(repeating: Array(repeating: 0, count: dimension), count: n))
  }

  public enum EstimationError: Error, CustomStringConvertible {
    case badData(String)
    public var description: String {
      switch self { case .badData(let m): return "EMS estimation: \(m)" }
    }
  }

  /// Estimates the EMS of `model` on `data` (rows of dimension `dimension`, flattened row-major; the paper uses
  /// 1,024–4,096 training rows and grids of 120–1,200 intervals).
  public static func estimate(model: Denoiser, schedule: any NoiseSchedule, data: [Double], dimension d: Int,
                              gridSize: Int = 200, differenceStep delta: Double = 1e-3, rng: inout RandomStream,
                              progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }) throws -> EmpiricalModelStatistics {
    guard d > 0, !data.isEmpty, data.count % d == 0 else {
      throw EstimationError.badData("\(data.count) values are not whole rows of dimension \(d)")
    }
    guard gridSize >= 2 else { throw EstimationError.badData("grid size \(gridSize): at least 2 intervals") }
    let rows = data.count / d
    let lambdas = grid(schedule, gridSize: gridSize)
    /// ε_θ(x, t) from the data prediction: ε = (x − α·x̂₀)/σ.
    func epsilon(_ x: [Double], _ t: Double) throws -> [Double] {
      let m = try model(x, t)
      let (a, sg) = (schedule.alpha(t), schedule.sigma(t))
      return (0..<x.count).map { (x[$0] - a * m[$0]) / sg }
    }
    func noisy(_ t: Double) -> [Double] {
      let (a, sg) = (schedule.alpha(t), schedule.sigma(t))
      return data.map { a * $0 + sg * rng.nextNormal() }
    }
    // Pass 1: l at every grid point.
    var l: [[Double]] = []
    for lam in lambdas {
      let t = schedule.time(lambda: lam), sg = schedule.sigma(t)
      let x = noisy(t)
      let v = (0..<x.count).map { _ in rng.nextInt(below: 2) == 0 ? -1.0 : 1.0 }
      let plus = try epsilon(zip(x, v).map { $0 + delta * $1 }, t)
      let minus = try epsilon(zip(x, v).map { $0 - delta * $1 }, t)
      var row = [Double](repeating: 0, count: d)
      for i in 0..<x.count { row[i % d] += sg * (plus[i] - minus[i]) / (2 * delta) * v[i] }
      l.append(row.map { $0 / Double(rows) })
      progress(l.count, 2 * lambdas.count)
    }
    // l̇ by differences on the grid (one-sided at the ends), then a ±5-point moving average.
    let n = gridSize, gap = lambdas[1] - lambdas[0]
    let raw: [[Double]] = (0...n).map { j in
      let (lo, hi) = (Swift.max(0, j - 1), Swift.min(n, j + 1))
      return (0..<d).map { (l[hi][$0] - l[lo][$0]) / (Double(hi - lo) * gap) }
    }
    let lDot: [[Double]] = (0...n).map { j in
      let window = Swift.max(0, j - 5)...Swift.min(n, j + 5)
      return (0..<d).map { q in window.reduce(0) { $0 + raw[$1][q] } / Double(window.count) }
    }
    // Pass 2: s and b from f and its total λ-derivative along the ODE.
    var s: [[Double]] = [], b: [[Double]] = []
    for (j, lam) in lambdas.enumerated() {
      let t = schedule.time(lambda: lam)
      let (a, sg) = (schedule.alpha(t), schedule.sigma(t))
      let (tPlus, tMinus) = (schedule.time(lambda: lam + delta), schedule.time(lambda: lam - delta))
      let dLogAlpha = (schedule.logAlpha(tPlus) - schedule.logAlpha(tMinus)) / (2 * delta)
      let x = noisy(t)
      let eps = try epsilon(x, t)
      let velocity = (0..<x.count).map { dLogAlpha * x[$0] - sg * eps[$0] }
      let ePlus = try epsilon((0..<x.count).map { x[$0] + delta * velocity[$0] }, tPlus)
      let eMinus = try epsilon((0..<x.count).map { x[$0] - delta * velocity[$0] }, tMinus)
      var sumF = [Double](repeating: 0, count: d), sumD = sumF, sumFF = sumF, sumFD = sumF
      let decay = exp(-lam)
      for i in 0..<x.count {
        let q = i % d
        let f = (sg * eps[i] - l[j][q] * x[i]) / a
        let epsDot = (ePlus[i] - eMinus[i]) / (2 * delta)
        let fDot = decay * ((l[j][q] - 1) * eps[i] + epsDot) - lDot[j][q] * x[i] / a
        sumF[q] += f; sumD[q] += fDot; sumFF[q] += f * f; sumFD[q] += f * fDot
      }
      let k = Double(rows)
      var sRow = [Double](repeating: 0, count: d), bRow = sRow
      for q in 0..<d {
        let (mf, md) = (sumF[q] / k, sumD[q] / k)
        let variance = sumFF[q] / k - mf * mf
        sRow[q] = variance > 1e-300 ? (sumFD[q] / k - mf * md) / variance : 0
        bRow[q] = md - sRow[q] * mf
      }
      s.append(sRow)
      b.append(bRow)
      progress(lambdas.count + s.count, 2 * lambdas.count)
    }
    return EmpiricalModelStatistics(lambdas: lambdas, dimension: d, l: l, s: s, b: b)
  }
}
