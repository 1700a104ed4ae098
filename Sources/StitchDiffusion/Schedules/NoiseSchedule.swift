import Foundation

/// A diffusion noise schedule in continuous time: x_t = α(t)·x₀ + σ(t)·ε, ε ~ N(0, I), t from `maxTime` (noise)
/// down to `minTime` (data).
///
/// Samplers work with the half log-SNR λ(t) = log α(t) − log σ(t) (Lu et al., DPM-Solver, arXiv 2206.00927,
/// §3.1), strictly decreasing in t, and need its inverse to place steps uniformly in λ. Every schedule is also a
/// "VE view": x̃ = x/α follows a variance-exploding process with noise level σ̃ = σ/α = e^{−λ} (Karras et al.,
/// EDM, arXiv 2206.00364, §2 and Table 1), which is how Euler/Heun handle any schedule.
public protocol NoiseSchedule: Sendable {
  /// A short id ("vp-linear", "vp-cosine", "ve", "edm").
  var id: String { get }
  /// t at which sampling starts (pure noise).
  var maxTime: Double { get }
  /// t at which sampling stops (the data end; > 0 where the schedule is singular at 0).
  var minTime: Double { get }
  /// log α(t).
  func logAlpha(_ t: Double) -> Double
  /// σ(t).
  func sigma(_ t: Double) -> Double
  /// The t with λ(t) = `lambda`.
  func time(lambda: Double) -> Double
}

extension NoiseSchedule {
  public func alpha(_ t: Double) -> Double { exp(logAlpha(t)) }
  /// λ(t) = log α − log σ.
  public func lambda(_ t: Double) -> Double { logAlpha(t) - log(sigma(t)) }
  /// σ̃ = σ/α, the noise level of the VE view.
  public func scaledSigma(_ t: Double) -> Double { sigma(t) / alpha(t) }

  /// Inverse of λ by bisection on [0, 2·maxTime] (for schedules without a closed form).
  func bisectTime(lambda target: Double) -> Double {
    var lo = 0.0, hi = Swift.max(maxTime * 2, 1e-12)
    for _ in 0..<200 {
      let mid = 0.5 * (lo + hi)
      if lambda(mid) > target { lo = mid } else { hi = mid }
    }
    return 0.5 * (lo + hi)
  }
}

/// Variance-preserving schedule with linear β(t) = β₀ + t(β₁ − β₀) on t ∈ [0, 1] (Song et al., "Score-Based
/// Generative Modeling through SDEs", arXiv 2011.13456, eq. 11 and App. B; the continuous limit of DDPM's
/// β 1e-4 → 0.02 over 1000 steps): log α(t) = −¼t²(β₁ − β₀) − ½tβ₀, σ = √(1 − α²). Defaults β₀ = 0.1, β₁ = 20,
/// sampling from t = 1 to 1e-3 (DPM-Solver's `eps` for discrete-time models).
public struct VPLinearSchedule: NoiseSchedule {
  public let id = "vp-linear"
  public var betaMin = 0.1, betaMax = 20.0
  public var maxTime = 1.0, minTime = 1e-3
  public init() {}
  public func logAlpha(_ t: Double) -> Double { -0.25 * t * t * (betaMax - betaMin) - 0.5 * t * betaMin }
  public func sigma(_ t: Double) -> Double { (-expm1(2 * logAlpha(t))).squareRoot() }
  /// Closed form: with L = log(1 + e^{−2λ}) = −2 log α, t = 2(β₁−β₀)L / ((√(β₀² + 2(β₁−β₀)L) + β₀)(β₁−β₀)).
  public func time(lambda: Double) -> Double {
    let l = Swift.max(-2 * lambda, 0) + log1p(exp(-Swift.abs(2 * lambda)))  // log(1 + e^{−2λ}), stable
    let tmp = 2 * (betaMax - betaMin) * l
    return tmp / ((betaMin * betaMin + tmp).squareRoot() + betaMin) / (betaMax - betaMin)
  }
}

/// Variance-preserving cosine schedule (Nichol & Dhariwal, "Improved DDPM", arXiv 2102.09672, eq. 17):
/// α(t) = cos(π/2·(t + s)/(1 + s)) / cos(π/2·s/(1 + s)), s = 0.008; sampled from t = 0.9946 (where α stays
/// away from 0, as DPM-Solver's `NoiseScheduleVP('cosine')`) to 1e-3.
public struct VPCosineSchedule: NoiseSchedule {
  public let id = "vp-cosine"
  public var s = 0.008
  public var maxTime = 0.9946, minTime = 1e-3
  public init() {}
  var logAlpha0: Double { log(cos(Double.pi / 2 * s / (1 + s))) }
  public func logAlpha(_ t: Double) -> Double { log(cos(Double.pi / 2 * (t + s) / (1 + s))) - logAlpha0 }
  public func sigma(_ t: Double) -> Double { (-expm1(2 * logAlpha(t))).squareRoot() }
  public func time(lambda: Double) -> Double {
    let logAlpha = -0.5 * (Swift.max(-2 * lambda, 0) + log1p(exp(-Swift.abs(2 * lambda))))
    return 2 * (1 + s) / Double.pi * acos(exp(logAlpha + logAlpha0)) - s
  }
}

/// Variance-exploding schedule (Song et al. 2021, eq. 9): α = 1, σ(t) = σ_min·(σ_max/σ_min)^t on t ∈ [0, 1];
/// defaults σ_min = 0.01, σ_max = 50 (their CIFAR-10 setting), sampled from t = 1 to 0.
public struct VESchedule: NoiseSchedule {
  public let id = "ve"
  public var sigmaMin = 0.01, sigmaMax = 50.0
  public var maxTime = 1.0, minTime = 0.0
  public init() {}
  public func logAlpha(_ t: Double) -> Double { 0 }
  public func sigma(_ t: Double) -> Double { sigmaMin * pow(sigmaMax / sigmaMin, t) }
  public func time(lambda: Double) -> Double { log(exp(-lambda) / sigmaMin) / log(sigmaMax / sigmaMin) }
}

/// EDM's schedule (Karras et al. 2022, Table 1): α = 1, σ(t) = t, sampled from σ_max = 80 to σ_min = 0.002.
public struct EDMSchedule: NoiseSchedule {
  public let id = "edm"
  public var maxTime = 80.0, minTime = 0.002
  public init(sigmaMin: Double = 0.002, sigmaMax: Double = 80) {
    minTime = sigmaMin
    maxTime = sigmaMax
  }
  public func logAlpha(_ t: Double) -> Double { 0 }
  public func sigma(_ t: Double) -> Double { t }
  public func time(lambda: Double) -> Double { exp(-lambda) }
}

/// Schedules by id.
public enum NoiseSchedules {
  public static let ids = ["vp-linear", "vp-cosine", "ve", "edm"]
  public static func named(_ id: String) -> (any NoiseSchedule)? {
    switch id {
    case "vp-linear": return VPLinearSchedule()
    case "vp-cosine": return VPCosineSchedule()
    case "ve": return VESchedule()
    case "edm": return EDMSchedule()
    default: return nil
    }
  }
}
