import Foundation

import StitchTensor

/// The model a sampler calls: for a batch of points (n rows of dimension d, flattened row-major) at time t,
/// the data prediction x̂₀ of every row (networks convert their raw output through `Parameterization`).
public typealias Denoiser = (_ x: [Double], _ t: Double) throws -> [Double]

/// A sampler: integrates the probability-flow ODE (or the reverse SDE) of a `NoiseSchedule` from `times[0]`
/// (noise) to `times.last`, calling the denoiser at the times its method needs.
public protocol DiffusionSampler: Sendable {
  /// CLI id ("ddim", "dpmpp-2m", ...).
  var id: String { get }
  /// Global order of accuracy in the step size, for deterministic samplers (0 for stochastic ones).
  var order: Int { get }
  /// Whether the sampler injects fresh noise (then it matches a distribution, not an ODE solution).
  var isStochastic: Bool { get }
  /// Denoiser evaluations for `steps` steps.
  func evaluations(steps: Int) -> Int
  /// Runs the sampler in place on `x` (rows of noise at `times[0]`).
  func sample(_ x: inout [Double], times: [Double], schedule: any NoiseSchedule, model: Denoiser, rng: inout RandomStream) throws
}

extension DiffusionSampler {
  public var isStochastic: Bool { false }
  public func evaluations(steps: Int) -> Int { steps }
}

/// Element-wise helpers on flat vectors (the hot loops of every sampler).
enum Vec {
  /// Σ cᵢ·vᵢ.
  @inline(__always)
  static func combine(_ terms: [(Double, [Double])]) -> [Double] {
    let n = terms[0].1.count
    var out = [Double](repeating: 0, count: n)
    out.withUnsafeMutableBufferPointer { o in
      for (c, v) in terms where c != 0 {
        v.withUnsafeBufferPointer { p in for i in 0..<n { o[i] += c * p[i] } }
      }
    }
    return out
  }

  static func normal(_ n: Int, _ rng: inout RandomStream) -> [Double] { (0..<n).map { _ in rng.nextNormal() } }
}
