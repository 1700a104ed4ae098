#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A first-order optimizer with PyTorch's semantics, so learning rates and betas from papers mean the same thing.
///
/// ```swift
/// var optimizer = Adam(learningRate: 3e-4)
/// let (loss, grad) = try valueWithGradient(at: critic) { ... }
/// optimizer.update(&critic, along: grad)
/// ```
/// The state (moments, step count) is created on the first update and visited by name for checkpoints, so a
/// resumed run continues bit-exactly.
public protocol Optimizer {
  /// The learning rate used by the next update (schedules set it before each step).
  var learningRate: Float { get set }
  /// The number of updates applied so far.
  var step: Int { get set }
  /// Applies one update to every parameter of `model` given a gradient of the same structure.
  mutating func update<Model: ParameterGroup>(_ model: inout Model, along gradient: Model)
  /// Visits the optimizer's state tensors (e.g. "exp_avg.3") for checkpoints.
  mutating func visitState(_ prefix: String, _ visit: (String, inout Tensor) -> Void)
}

/// The global L2 norm of all gradient tensors, and the gradient scaled so its norm is at most `maxNorm`
/// (PyTorch's `clip_grad_norm_`: scale = maxNorm / (norm + 1e-6), applied only when below 1).
/// - Returns: the norm before clipping.
@discardableResult
public func clipGradientNorm<Model: ParameterGroup>(_ gradient: inout Model, maxNorm: Float) -> Float {
  var total: Double = 0
  gradient.visitParameters("") { _, g in g.withUnsafeBufferPointer { p in for v in p { total += Double(v) * Double(v) } } }
  let norm = Float(total.squareRoot())
  let scale = maxNorm / (norm + 1e-6)
  if scale < 1 {
    gradient.visitParameters("") { _, g in g.withUnsafeMutableBufferPointer { p in for i in 0..<p.count { p[i] *= scale } } }
  }
  return norm
}

/// Learning-rate schedules, as functions of the update index (0-based).
public enum LearningRateSchedule: Codable, Sendable, Equatable {
  /// The base rate throughout.
  case constant
  /// Cosine annealing from the base rate to `minimum` over `steps` updates (PyTorch `CosineAnnealingLR` closed
  /// form, Loshchilov & Hutter 2017 eq. 5 without restarts): η_t = η_min + (η − η_min)(1 + cos(π t / T)) / 2.
  case cosine(steps: Int, minimum: Float)
  /// The same cosine without the stop at `steps`: η_t = η_min + (η − η_min)(1 + cos(π t / T)) / 2 for every t, so the
  /// rate climbs back to η over the next T updates and repeats with period 2T, as PyTorch's `CosineAnnealingLR`
  /// does when it is stepped past `T_max` (CORL's IQL fine-tuning).
  case periodicCosine(steps: Int, minimum: Float)
  /// Linear warm-up from base/steps to the base rate over `steps` updates, then constant.
  case linearWarmup(steps: Int)

  /// The learning rate for update `t` given the base rate.
  public func rate(base: Float, at t: Int) -> Float {
    switch self {
    case .constant: return base
    case .cosine(let steps, let minimum):
      let progress = Double(min(t, steps)) / Double(max(steps, 1))
      return minimum + (base - minimum) * Float((1 + cos(Double.pi * progress)) / 2)
    case .periodicCosine(let steps, let minimum):
      // t mod 2T keeps the argument small (cos is 2π-periodic, so the value is the same).
      let progress = Double(t % (2 * max(steps, 1))) / Double(max(steps, 1))
      return minimum + (base - minimum) * Float((1 + cos(Double.pi * progress)) / 2)
    case .linearWarmup(let steps):
      return base * min(1, Float(t + 1) / Float(max(steps, 1)))
    }
  }
}
