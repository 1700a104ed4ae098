/// What a denoiser network outputs, and the one place where outputs are converted to the data prediction x̂₀
/// every sampler uses (x_t = α·x₀ + σ·ε):
/// - `noise` (ε-prediction, DDPM): x̂₀ = (x − σ·ε̂)/α;
/// - `data` (x₀-prediction): x̂₀ = output;
/// - `velocity` (v-prediction, Salimans & Ho, arXiv 2202.00512, §4, for VP schedules): v = α·ε − σ·x₀, so
///   x̂₀ = α·x − σ·v̂ (uses α² + σ² = 1);
/// - `edm` (Karras et al. 2022, Table 1 preconditioning, α = 1): D(x; σ) = c_skip·x + c_out·F, with
///   c_skip = σ_d²/(σ² + σ_d²), c_out = σ·σ_d/√(σ² + σ_d²); the network itself sees c_in·x, c_in = 1/√(σ² + σ_d²),
///   and c_noise = ¼·ln σ.
public enum Parameterization: String, Sendable, Codable, CaseIterable {
  case noise, data, velocity, edm

  /// x̂₀ from a raw network output at noise level (α, σ); `sigmaData` only for `edm`.
  public func dataPrediction(output: Double, x: Double, alpha: Double, sigma: Double, sigmaData: Double = 1) -> Double {
    switch self {
    case .noise: return (x - sigma * output) / alpha
    case .data: return output
    case .velocity: return alpha * x - sigma * output
    case .edm:
      let s2 = sigma * sigma, d2 = sigmaData * sigmaData
      return d2 / (s2 + d2) * x + sigma * sigmaData / (s2 + d2).squareRoot() * output
    }
  }

  /// The raw output that corresponds to a given x̂₀ (the inverse map; used to check conversions).
  public func output(dataPrediction x0: Double, x: Double, alpha: Double, sigma: Double, sigmaData: Double = 1) -> Double {
    switch self {
    case .noise: return (x - alpha * x0) / sigma
    case .data: return x0
    case .velocity: return (alpha * x - x0) / sigma
    case .edm:
      let s2 = sigma * sigma, d2 = sigmaData * sigmaData
      return (x0 - d2 / (s2 + d2) * x) / (sigma * sigmaData / (s2 + d2).squareRoot())
    }
  }

  /// The ε̂ implied by x̂₀ at (α, σ): (x − α·x̂₀)/σ.
  public static func noise(fromData x0: Double, x: Double, alpha: Double, sigma: Double) -> Double { (x - alpha * x0) / sigma }
}
