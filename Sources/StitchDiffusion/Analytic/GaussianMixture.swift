import Foundation

import StitchTensor

/// An isotropic Gaussian mixture p₀ = Σₖ wₖ·N(μₖ, sₖ²I): a data distribution whose noised marginals, score and
/// denoiser are exact, used as the oracle for every sampler.
///
/// Under x_t = α·x₀ + σ·ε each component becomes N(α·μₖ, (α²sₖ² + σ²)I), and the exact data prediction is
/// E[x₀ | x_t] = Σₖ γₖ(x)·(μₖ + α·sₖ²/(α²sₖ² + σ²)·(x − α·μₖ)), γₖ the posterior responsibilities. For a single
/// component the probability-flow ODE has the closed-form solution
/// x_t = α_t·μ + √((α_t²s² + σ_t²)/(α_s²s² + σ_s²))·(x_s − α_s·μ); for a mixture, `referenceSolution` integrates
/// the ODE with classical RK4 in u = log σ̃ (dx̃/du = x̃ − x̂₀) at a step count where its error is below 1e-12.
public struct GaussianMixture: Sendable {
  public var means: [[Double]]
  public var scales: [Double]
  public var weights: [Double]
  public var dimension: Int { means[0].count }

  public init(means: [[Double]], scales: [Double], weights: [Double]) {
    self.means = means
    self.scales = scales
    let total = weights.reduce(0, +)
    self.weights = weights.map { $0 / total }
  }

  /// The 2-D, three-component mixture of Stitch's exactness tests and benchmark.
  public static let standard = GaussianMixture(means: [[-2, 0.5], [1.5, 1.5], [0.5, -2]], scales: [0.3, 0.5, 0.4], weights: [0.3, 0.4, 0.3])

  /// Exact x̂₀ for rows of `x` (flattened) at time t.
  public func dataPrediction(_ x: [Double], t: Double, schedule: any NoiseSchedule) -> [Double] {
    let a = schedule.alpha(t), s = schedule.sigma(t), d = dimension
    var out = [Double](repeating: 0, count: x.count)
    var logp = [Double](repeating: 0, count: means.count)
    for row in 0..<(x.count / d) {
      for k in means.indices {
        let v = a * a * scales[k] * scales[k] + s * s
        var q = 0.0
        for j in 0..<d { let e = x[row * d + j] - a * means[k][j]; q += e * e }
        logp[k] = log(weights[k]) - 0.5 * Double(d) * log(v) - 0.5 * q / v
      }
      let top = logp.max()!
      let z = logp.reduce(0) { $0 + exp($1 - top) }
      for k in means.indices {
        let g = exp(logp[k] - top) / z
        let v = a * a * scales[k] * scales[k] + s * s
        let gain = a * scales[k] * scales[k] / v
        for j in 0..<d { out[row * d + j] += g * (means[k][j] + gain * (x[row * d + j] - a * means[k][j])) }
      }
    }
    return out
  }

  /// The denoiser closure samplers take.
  /// `count` draws from the mixture, flattened row-major (data for statistics such as DPM-Solver-v3's EMS).
  public func sample(_ count: Int, rng: inout RandomStream) -> [Double] {
    var out: [Double] = []
    out.reserveCapacity(count * dimension)
    for _ in 0..<count {
      let u = rng.nextDouble()
      var c = 0, acc = weights[0]
      while u >= acc && c < weights.count - 1 { c += 1; acc += weights[c] }
      for j in 0..<dimension { out.append(means[c][j] + scales[c] * rng.nextNormal()) }
    }
    return out
  }

  public func denoiser(_ schedule: any NoiseSchedule) -> Denoiser { { x, t in self.dataPrediction(x, t: t, schedule: schedule) } }

  /// Exact ODE solution from (x at s) to t for a single-component mixture.
  public func singleComponentSolution(_ x: [Double], from s: Double, to t: Double, schedule: any NoiseSchedule) -> [Double] {
    precondition(means.count == 1, "closed form only for one component")
    let mu = means[0], sc = scales[0], d = dimension
    let aS = schedule.alpha(s), aT = schedule.alpha(t), sS = schedule.sigma(s), sT = schedule.sigma(t)
    let g = ((aT * aT * sc * sc + sT * sT) / (aS * aS * sc * sc + sS * sS)).squareRoot()
    return x.indices.map { aT * mu[$0 % d] + g * (x[$0] - aS * mu[$0 % d]) }
  }

  /// The ODE solution from s to t by RK4 in u = log σ̃ with `steps` steps (default 4000).
  public func referenceSolution(_ x: [Double], from s: Double, to t: Double, schedule: any NoiseSchedule, steps: Int = 4000) -> [Double] {
    let u0 = -schedule.lambda(s), u1 = -schedule.lambda(t)
    let h = (u1 - u0) / Double(steps)
    var y = x.map { $0 / schedule.alpha(s) }  // x̃
    func f(_ y: [Double], _ u: Double) -> [Double] {
      let tau = schedule.time(lambda: -u)
      let a = schedule.alpha(tau)
      let x0 = dataPrediction(y.map { $0 * a }, t: tau, schedule: schedule)
      return zip(y, x0).map { $0 - $1 }
    }
    for i in 0..<steps {
      let u = u0 + Double(i) * h
      let k1 = f(y, u)
      let k2 = f(zip(y, k1).map { $0 + 0.5 * h * $1 }, u + 0.5 * h)
      let k3 = f(zip(y, k2).map { $0 + 0.5 * h * $1 }, u + 0.5 * h)
      let k4 = f(zip(y, k3).map { $0 + h * $1 }, u + h)
      for j in y.indices { y[j] += h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]) }
    }
    let aT = schedule.alpha(t)
    return y.map { $0 * aT }
  }

  /// The mixture's mean and per-dimension variance (for moment checks of stochastic samplers).
  public var mean: [Double] { (0..<dimension).map { j in means.indices.reduce(0) { $0 + weights[$1] * means[$1][j] } } }
  public var variance: [Double] {
    let m = mean
    return (0..<dimension).map { j in
      means.indices.reduce(0) { $0 + weights[$1] * (scales[$1] * scales[$1] + means[$1][j] * means[$1][j]) } - m[j] * m[j]
    }
  }
}
