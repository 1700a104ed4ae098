/// Observation normalisation: (s − μ) / (σ + ε) per dimension, with μ, σ from the dataset (TD3+BC, Fujimoto &
/// Gu 2021 §5; CORL uses ε = 1e-3). Stored with checkpoints so evaluation normalises the same way.
public struct ObservationNormalizer: Codable, Sendable, Equatable {
  public var mean: [Float]
  public var std: [Float]
  public var epsilon: Float

  /// The identity normaliser for `dim` dimensions.
  public init(identity dim: Int) {
    mean = Array(repeating: 0, count: dim)
    std = Array(repeating: 1, count: dim)
    epsilon = 0
  }

  /// Mean and population std of the dataset's observations.
  public init(fitting ds: Dataset, epsilon: Float = 1e-3) {
    let stats = DatasetStatistics.columnMeanStd(ds.observations, width: ds.observationDim)
    mean = stats.0.map(Float.init)
    std = stats.1.map(Float.init)
    self.epsilon = epsilon
  }

  /// Normalises a row-major block of observations in place.
  public func apply(_ values: inout [Float]) {
    let d = mean.count
    guard d > 0 else { return }
    for i in 0..<values.count { values[i] = (values[i] - mean[i % d]) / (std[i % d] + epsilon) }
  }

  /// Normalises one observation.
  public func callAsFunction(_ observation: [Double]) -> [Float] {
    observation.indices.map { (Float(observation[$0]) - mean[$0]) / (std[$0] + epsilon) }
  }

  /// The dataset with normalised observations and next observations.
  public func applied(to ds: Dataset) -> Dataset {
    var out = ds
    apply(&out.observations)
    apply(&out.nextObservations)
    return out
  }
}

/// Reward transforms used by the algorithms' reference implementations.
public enum RewardTransform {
  /// r ← r · 1000 / (max episode return − min episode return): CORL's `modify_reward` for locomotion
  /// (IQL's normalisation, Kostrikov et al. 2022 appendix B). Returns the scale applied.
  @discardableResult
  public static func normalizeByReturnRange(_ ds: inout Dataset) -> Float {
    let returns = ds.episodes.map(\.totalReturn)
    guard let lo = returns.min(), let hi = returns.max(), hi > lo else { return 1 }
    let scale = Float(1000 / (hi - lo))
    for i in 0..<ds.count { ds.rewards[i] *= scale }
    return scale
  }

  /// r ← r · scale + shift (CQL's reward_scale / reward_bias).
  public static func scaleAndShift(_ ds: inout Dataset, scale: Float, shift: Float) {
    for i in 0..<ds.count { ds.rewards[i] = ds.rewards[i] * scale + shift }
  }

  /// Discounted returns-to-go within each episode: G_t = r_t + γ G_{t+1}, restarting at episode ends.
  public static func returnsToGo(_ ds: Dataset, discount: Double = 1) -> [Double] {
    var out = [Double](repeating: 0, count: ds.count)
    for e in ds.episodes {
      var g = 0.0
      for i in stride(from: e.start + e.length - 1, through: e.start, by: -1) {
        g = Double(ds.rewards[i]) + discount * g
        out[i] = g
      }
    }
    return out
  }
}
