import Foundation

/// Where the N steps of a sampler go between `maxTime` and `minTime` (N + 1 times, decreasing).
public enum StepSpacing: String, Sendable, CaseIterable, Codable {
  /// Uniform in t (DDIM's and DPM-Solver's `time_uniform`).
  case uniformTime = "time-uniform"
  /// Uniform in λ = log-SNR/2 (DPM-Solver's `logSNR`, recommended there for few steps).
  case logSNR = "logsnr"
  /// Karras et al. 2022, eq. 5: σ̃ᵢ = (σ̃_max^{1/ρ} + i/N·(σ̃_min^{1/ρ} − σ̃_max^{1/ρ}))^ρ, ρ = 7, in the VE view.
  case karras
  /// Uniform in √t (DPM-Solver's `time_quadratic`, for high-resolution pixel models).
  case timeQuadratic = "time-quadratic"

  /// N + 1 decreasing times from `schedule.maxTime` to `schedule.minTime`.
  public func times(_ steps: Int, schedule: any NoiseSchedule, rho: Double = 7) -> [Double] {
    let n = Swift.max(steps, 1)
    let tMax = schedule.maxTime, tMin = schedule.minTime
    func frac(_ i: Int) -> Double { Double(i) / Double(n) }
    var out: [Double]
    switch self {
    case .uniformTime:
      out = (0...n).map { tMax + frac($0) * (tMin - tMax) }
    case .logSNR:
      let a = schedule.lambda(tMax), b = schedule.lambda(tMin)
      out = (0...n).map { schedule.time(lambda: a + frac($0) * (b - a)) }
    case .karras:
      let hi = pow(schedule.scaledSigma(tMax), 1 / rho), lo = pow(schedule.scaledSigma(tMin), 1 / rho)
      out = (0...n).map { schedule.time(lambda: -log(pow(hi + frac($0) * (lo - hi), rho))) }
    case .timeQuadratic:
      let a = tMax.squareRoot(), b = tMin.squareRoot()
      out = (0...n).map { let r = a + frac($0) * (b - a); return r * r }
    }
    out[0] = tMax
    out[n] = tMin
    return out
  }
}
