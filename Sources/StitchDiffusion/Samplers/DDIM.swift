import Foundation

import StitchTensor

/// DDIM (Song, Meng & Ermon, arXiv 2010.02502, eq. 12) generalised to any schedule: from s to t,
/// x_t = α_t·x̂₀ + √(σ_t² − c²)·ε̂ + c·z with ε̂ = (x_s − α_s·x̂₀)/σ_s and c = η·σ_t·√(1 − e^{−2h}), h = λ_t − λ_s
/// (eq. 16's σ_t(η) rewritten with λ; for VP schedules the two agree exactly). η = 0 is the deterministic DDIM,
/// the first-order DPM-Solver (Lu et al. 2022, §3.3) and identical to Euler in the VE view; η = 1 is DDPM's
/// ancestral sampler (Ho et al., arXiv 2006.11239, Alg. 2).
public struct DDIMSampler: DiffusionSampler {
  public var eta: Double
  public init(eta: Double = 0) { self.eta = eta }
  public var id: String { eta == 0 ? "ddim" : (eta == 1 ? "ddpm" : "ddim-eta\(eta)") }
  public var order: Int { eta == 0 ? 1 : 0 }
  public var isStochastic: Bool { eta != 0 }

  public func sample(_ x: inout [Double], times: [Double], schedule: any NoiseSchedule, model: Denoiser, rng: inout RandomStream) throws {
    for i in 0..<(times.count - 1) {
      let s = times[i], t = times[i + 1]
      let x0 = try model(x, s)
      x = step(x, x0: x0, from: s, to: t, schedule: schedule, rng: &rng)
    }
  }

  /// One DDIM step given the data prediction at s.
  func step(_ x: [Double], x0: [Double], from s: Double, to t: Double, schedule: any NoiseSchedule, rng: inout RandomStream) -> [Double] {
    let aS = schedule.alpha(s), sS = schedule.sigma(s), aT = schedule.alpha(t), sT = schedule.sigma(t)
    let h = schedule.lambda(t) - schedule.lambda(s)
    let c = eta == 0 ? 0 : eta * sT * Swift.max(0, -expm1(-2 * h)).squareRoot()
    let keep = Swift.max(0, sT * sT - c * c).squareRoot()
    // x_t = α_t x̂₀ + keep·(x − α_s x̂₀)/σ_s + c z
    var out = Vec.combine([(aT - keep * aS / sS, x0), (keep / sS, x)])
    if c != 0 {
      let z = Vec.normal(x.count, &rng)
      for i in out.indices { out[i] += c * z[i] }
    }
    return out
  }
}
