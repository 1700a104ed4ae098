#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Gaussian with diagonal covariance over the last axis, parameterised by mean and log standard deviation.
public struct DiagonalGaussian {
  public var mean: Tensor
  public var logStd: Tensor

  public init(mean: Tensor, logStd: Tensor) {
    self.mean = mean
    self.logStd = logStd
  }

  /// log N(x; μ, σ²) summed over the last axis: Σ −½((x−μ)/σ)² − log σ − ½ log 2π.
  public func logProbability(_ x: Tensor) -> Tensor {
    let z = (x - mean) / logStd.exp()
    let perDim = z.square() * -0.5 - logStd - 0.5 * Float(log(2 * Double.pi))
    return perDim.sum(axis: -1)
  }

  /// Entropy summed over the last axis: Σ ½ + ½ log 2π + log σ.
  public func entropy() -> Tensor {
    (logStd + Float(0.5 + 0.5 * log(2 * Double.pi))).sum(axis: -1)
  }

  /// A reparameterised sample μ + σ·ε with ε ~ N(0, I) drawn from `rng` (gradients flow to μ and log σ).
  public func sample(using rng: inout RandomStream) -> Tensor {
    sample(noise: Tensor.normal(mean.shape, using: &rng))
  }

  /// μ + σ·ε for a given standard-normal ε shaped like μ (the same sample as `sample(using:)` when ε comes from
  /// the same stream; lets a test feed another library's draws).
  public func sample(noise: Tensor) -> Tensor {
    mean + logStd.exp() * noise
  }
}

/// A tanh-squashed Gaussian policy: u ~ N(μ, σ²), a = tanh(u) (SAC, Haarnoja et al. 2018, arXiv 1801.01290).
///
/// Log-probability with the exact change-of-variables correction (SAC appendix C, eq. 21):
/// log π(a) = log N(u) − Σ log(1 − tanh²(u)), where log(1 − tanh²(u)) = 2(log 2 − u − softplus(−2u)) is used
/// because it is exact and stable for large |u| (no 1 − tanh² underflow to 0).
public struct TanhGaussian {
  public var base: DiagonalGaussian

  public init(mean: Tensor, logStd: Tensor) { base = DiagonalGaussian(mean: mean, logStd: logStd) }

  /// A reparameterised action and its log-probability (summed over the action axis).
  public func sampleWithLogProbability(using rng: inout RandomStream) -> (action: Tensor, logProbability: Tensor) {
    sampleWithLogProbability(noise: Tensor.normal(base.mean.shape, using: &rng))
  }

  /// The same for a given standard-normal ε shaped like the mean.
  public func sampleWithLogProbability(noise: Tensor) -> (action: Tensor, logProbability: Tensor) {
    let u = base.sample(noise: noise)
    return (u.tanh(), logProbability(preTanh: u))
  }

  /// log π(tanh(u)) for a pre-squash value u.
  public func logProbability(preTanh u: Tensor) -> Tensor {
    let correction = (Float(log(2.0)) - u - (u * -2).softplus()) * 2
    return base.logProbability(u) - correction.sum(axis: -1)
  }

  /// log π(a) for an action a in (−1, 1) (clipped to ±(1 − 1e-6) before atanh, as data actions may touch ±1).
  public func logProbability(action a: Tensor) -> Tensor {
    let clipped = a.clamped(min: -1 + 1e-6, max: 1 - 1e-6)
    let u = ((1 + clipped) / (1 - clipped)).log() * 0.5  // atanh
    return logProbability(preTanh: u)
  }

  /// The deterministic action tanh(μ) (used for evaluation).
  public var mode: Tensor { base.mean.tanh() }
}
