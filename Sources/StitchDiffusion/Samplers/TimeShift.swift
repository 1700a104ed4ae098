import Foundation

import StitchTensor

/// The time-shift sampler (Li, Qu, Yao, Sun & Moens, "Alleviating Exposure Bias in Diffusion Models through
/// Sampling with Shifted Time Steps", ICLR 2024, arXiv 2305.15583, Alg. 2), on top of DDIM: a sample whose
/// statistics drifted from its nominal noise level is denoised as if it were at the nearby time whose noise
/// level matches it best. At each step after the first whose time exceeds `cutoff`·maxTime, the variance v̂ of the
/// current samples (over all elements) is compared with the marginal variance α_τ²·v_data + σ_τ² of candidate times
/// τ in a window of `window` grid points (a 1000-point training grid) centred on the nominal time; the model is
/// evaluated at the best τ and the DDIM step goes from τ to the next nominal time. With `dataVariance` = 0 the
/// criterion is the paper's |v̂ − (1 − ᾱ_τ)| for VP schedules; `window` 0 is plain DDIM.
/// Defaults (window 40, cutoff 0.3 of the time range) are Stitch's choice, stated here because they are tuning
/// knobs of the paper, not constants.
public struct TimeShiftSampler: DiffusionSampler {
  public var window: Int
  public var cutoff: Double
  public var dataVariance: Double
  public init(window: Int = 40, cutoff: Double = 0.3, dataVariance: Double = 0) {
    self.window = window
    self.cutoff = cutoff
    self.dataVariance = dataVariance
  }
  public var id: String { "ts-ddim" }
  /// A heuristic correction: it does not converge to the ODE solution, so it has no order.
  public var order: Int { 0 }

  public func sample(_ x: inout [Double], times: [Double], schedule: any NoiseSchedule, model: Denoiser, rng: inout RandomStream) throws {
    let ddim = DDIMSampler(eta: 0)
    let grid = (schedule.maxTime - schedule.minTime) / 1000
    for i in 0..<(times.count - 1) {
      var s = times[i]
      if i > 0 && window > 0 && s > cutoff * schedule.maxTime {
        let mean = x.reduce(0, +) / Double(x.count)
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(x.count)
        var best = s, bestGap = Double.infinity
        for k in -(window / 2)...(window / 2) {
          let tau = Swift.min(Swift.max(s + Double(k) * grid, schedule.minTime), schedule.maxTime)
          let a = schedule.alpha(tau), sig = schedule.sigma(tau)
          let gap = Swift.abs(variance - (a * a * dataVariance + sig * sig))
          if gap < bestGap { bestGap = gap; best = tau }
        }
        s = best
      }
      let x0 = try model(x, s)
      x = ddim.step(x, x0: x0, from: s, to: times[i + 1], schedule: schedule, rng: &rng)
    }
  }
}
