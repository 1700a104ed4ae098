import Foundation

import StitchTensor

/// Euler and Heun on the probability-flow ODE in the VE view (Karras et al., EDM, arXiv 2206.00364, Alg. 1 and 2):
/// x̃ = x/α, σ̃ = σ/α, dx̃/dσ̃ = (x̃ − x̂₀)/σ̃. Heun adds a trapezoidal correction with a second evaluation at the
/// end of each step (second order, 2 evaluations per step). With `churn` > 0 this is EDM's stochastic sampler
/// (Alg. 2): before each step with σ̃ in [sTmin, sTmax], noise is added to raise σ̃ to σ̂ = σ̃·(1 + γ),
/// γ = min(S_churn/N, √2 − 1), with x̃ += √(σ̂² − σ̃²)·S_noise·z. SynthER's sampler is this with 128 steps,
/// S_churn 80, S_tmin 0.05, S_tmax 50, S_noise 1.003 (docs/facts.md §2h).
public struct EDMSampler: DiffusionSampler {
  public var heun: Bool
  public var churn = 0.0, sTmin = 0.05, sTmax = 50.0, sNoise = 1.003
  public init(heun: Bool, churn: Double = 0, sTmin: Double = 0.05, sTmax: Double = 50, sNoise: Double = 1.003) {
    self.heun = heun
    self.churn = churn
    self.sTmin = sTmin
    self.sTmax = sTmax
    self.sNoise = sNoise
  }

  /// SynthER's EDM stochastic Heun settings.
  public static let synther = EDMSampler(heun: true, churn: 80, sTmin: 0.05, sTmax: 50, sNoise: 1.003)

  public var id: String { (heun ? "heun" : "euler") + (churn > 0 ? "-churn" : "") }
  public var order: Int { churn > 0 ? 0 : (heun ? 2 : 1) }
  public var isStochastic: Bool { churn > 0 }
  public func evaluations(steps: Int) -> Int { heun ? 2 * steps : steps }

  public func sample(_ x: inout [Double], times: [Double], schedule: any NoiseSchedule, model: Denoiser, rng: inout RandomStream) throws {
    let n = times.count - 1
    for i in 0..<n {
      let s = times[i], t = times[i + 1]
      let aS = schedule.alpha(s), aT = schedule.alpha(t)
      var sigS = schedule.scaledSigma(s)
      let sigT = schedule.scaledSigma(t)
      var xs = x.map { $0 / aS }
      var sHat = s
      if churn > 0 && sigS >= sTmin && sigS <= sTmax {
        let gamma = Swift.min(churn / Double(n), 2.0.squareRoot() - 1)
        let sigHat = sigS * (1 + gamma)
        let scale = (sigHat * sigHat - sigS * sigS).squareRoot() * sNoise
        let z = Vec.normal(xs.count, &rng)
        for k in xs.indices { xs[k] += scale * z[k] }
        sHat = schedule.time(lambda: -log(sigHat))
        sigS = sigHat
      }
      let aHat = schedule.alpha(sHat)
      let x0 = try model(xs.map { $0 * aHat }, sHat)
      let d = zip(xs, x0).map { ($0 - $1) / sigS }
      var next = zip(xs, d).map { $0 + (sigT - sigS) * $1 }
      if heun && sigT > 0 {
        let x0b = try model(next.map { $0 * aT }, t)
        for k in next.indices {
          let d2 = (next[k] - x0b[k]) / sigT
          next[k] = xs[k] + (sigT - sigS) * 0.5 * (d[k] + d2)
        }
      }
      x = next.map { $0 * aT }
    }
  }
}
