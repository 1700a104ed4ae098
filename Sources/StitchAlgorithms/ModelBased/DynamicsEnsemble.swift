import Foundation
import StitchData
import StitchNN

import StitchTensor

/// A probabilistic ensemble of dynamics models (PETS: Chua et al. 2018, arXiv 1805.12114; MBPO: Janner et al.
/// 2019, arXiv 1906.08253), as OfflineRL-Kit builds it for MOPO, MOBILE and COMBO
/// (`offlinerlkit/modules/dynamics_module.py` `EnsembleDynamicsModel`, `nets/ensemble_linear.py`,
/// `dynamics/ensemble_dynamics.py`) and the edge-of-reach code for RAVL (`dynamics_training/net.py`):
/// - E members (7), each an MLP of 4 hidden layers of 200 SiLU ("Swish") units on standardised inputs [s, a],
///   with a Gaussian head: mean and log-variance of the target y = [s′ − s, r] (raw, not standardised);
/// - PETS's soft bounds on the log-variance, with learnable `maxLogVariance` (init 0.5) and `minLogVariance`
///   (init −10) shared by the members: lv ← max − softplus(max − lv), then lv ← min + softplus(lv − min);
/// - loss per minibatch [E, B, ·] (OfflineRL-Kit `EnsembleDynamics.learn`):
///   Σₑ mean_{b,k}((μ − y)² e^{−lv}) + Σₑ mean_{b,k}(lv) + Σ_layers decayₗ·½‖Wₗ‖² + c·(Σ max − Σ min), c = 0.01;
/// - weight decay per layer [2.5e-5, 5e-5, 7.5e-5, 7.5e-5, 1e-4] on the weights only;
/// - elites: the members with the lowest holdout MSE, among which rollouts draw one per sample.
/// Weights are initialised as OfflineRL-Kit's `EnsembleLinear`: truncated normal with std 1/(2√in) (PyTorch's
/// `trunc_normal_` bounds ±2, absolute), zero biases. The input scaler (OfflineRL-Kit `StandardScaler`: mean and
/// population std of the training inputs, std below 1e-12 set to 1) travels with the model.
/// Parameter names: `net.{i}.weight` `[E, out, in]`, `net.{i}.bias` `[E, out]`, `max_logvar`, `min_logvar`;
/// OfflineRL-Kit stores `[E, in, out]`.
public struct DynamicsEnsemble: ParameterGroup, Sendable {
  public var network: EnsembleMLP
  public var maxLogVariance: Tensor
  public var minLogVariance: Tensor
  public let observationDim: Int
  public let actionDim: Int
  public let hiddenSizes: [Int]
  /// Weight decay of each layer (hidden layers, then the output layer).
  public let weightDecays: [Float]
  /// The input scaler: mean and std of [s, a] over the training rows.
  public var inputMean: [Float]
  public var inputStd: [Float]
  /// Indices of the elite members (lowest holdout MSE first).
  public var elites: [Int]

  public var members: Int { network.members }
  /// Width of the predicted target [Δs, r].
  public var targetDim: Int { observationDim + 1 }
  public var inputDim: Int { observationDim + actionDim }

  public static let defaultWeightDecays: [Float] = [2.5e-5, 5e-5, 7.5e-5, 7.5e-5, 1e-4]

  public init(members: Int = 7, observationDim: Int, actionDim: Int, hiddenSizes: [Int] = [200, 200, 200, 200],
              weightDecays: [Float] = DynamicsEnsemble.defaultWeightDecays, rng: inout RandomStream) {
    precondition(weightDecays.count == hiddenSizes.count + 1, "one weight decay per layer")
    self.observationDim = observationDim
    self.actionDim = actionDim
    self.hiddenSizes = hiddenSizes
    self.weightDecays = weightDecays
    let target = observationDim + 1
    var layers: [EnsembleLinear] = []
    let sizes = [observationDim + actionDim] + hiddenSizes + [2 * target]
    for i in 0..<(sizes.count - 1) {
      var layer = EnsembleLinear(members: members, inputSize: sizes[i], outputSize: sizes[i + 1],
                                 activation: i < hiddenSizes.count ? .silu : .identity, rng: &rng)
      layer.weight = Self.truncatedNormal([members, sizes[i + 1], sizes[i]], std: 1 / (2 * Float(sizes[i]).squareRoot()), using: &rng)
      layer.bias = Tensor.zeros([members, sizes[i + 1]])
      layers.append(layer)
    }
    network = EnsembleMLP(layers: layers)
    maxLogVariance = Tensor(repeating: 0.5, shape: [target])
    minLogVariance = Tensor(repeating: -10, shape: [target])
    inputMean = [Float](repeating: 0, count: observationDim + actionDim)
    inputStd = [Float](repeating: 1, count: observationDim + actionDim)
    elites = Array(0..<members)
  }

  /// N(0, std²) redrawn outside ±2 (PyTorch `trunc_normal_(std:)` with its default absolute bounds a = −2, b = 2).
  static func truncatedNormal(_ shape: [Int], std: Float, using rng: inout RandomStream) -> Tensor {
    var values = Tensor.normal(shape, standardDeviation: std, using: &rng).scalars
    for i in values.indices {
      while Swift.abs(values[i]) > 2 { values[i] = Tensor.normal([1], standardDeviation: std, using: &rng).scalars[0] }
    }
    return Tensor(shape: shape, scalars: values)
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    network.visitParameters(prefix, visit)
    visit(prefix + "max_logvar", &maxLogVariance)
    visit(prefix + "min_logvar", &minLogVariance)
  }

  // MARK: Scaler

  /// Fits the scaler on raw inputs [s, a] (`rows` × `inputDim`, row-major): OfflineRL-Kit `StandardScaler.fit`
  /// (NumPy's population std; a std below 1e-12 becomes 1).
  public mutating func fitScaler(_ rows: [Float]) {
    let n = rows.count / inputDim
    precondition(n > 0, "the scaler needs at least one row")
    var mean = [Double](repeating: 0, count: inputDim), sq = [Double](repeating: 0, count: inputDim)
    for r in 0..<n { for k in 0..<inputDim { mean[k] += Double(rows[r * inputDim + k]) } }
    for k in 0..<inputDim { mean[k] /= Double(n) }
    for r in 0..<n { for k in 0..<inputDim { let d = Double(rows[r * inputDim + k]) - mean[k]; sq[k] += d * d } }
    inputMean = mean.map(Float.init)
    inputStd = sq.map { v in let s = (v / Double(n)).squareRoot(); return s < 1e-12 ? 1 : Float(s) }
  }

  /// Standardises raw inputs `[..., inputDim]` with the scaler.
  public func scale(_ raw: Tensor) -> Tensor {
    (raw - Tensor(shape: [inputDim], scalars: inputMean)) / Tensor(shape: [inputDim], scalars: inputStd)
  }

  // MARK: Forward and loss

  /// Mean and soft-bounded log-variance of [Δs, r] for standardised inputs `[E, B, in]` (or `[B, in]`, shared
  /// by the members); each `[E, B, targetDim]`. Differentiable.
  public func meanAndLogVariance(_ scaled: Tensor) -> (mean: Tensor, logVariance: Tensor) {
    let out = network(scaled)
    let d = targetDim
    let mean = out.slice(lastAxis: 0..<d)
    var logVariance = out.slice(lastAxis: d..<(2 * d))
    logVariance = maxLogVariance - (maxLogVariance - logVariance).softplus()
    logVariance = minLogVariance + (logVariance - minLogVariance).softplus()
    return (mean, logVariance)
  }

  /// Σ_layers decayₗ · ½‖Wₗ‖² (OfflineRL-Kit `EnsembleLinear.get_decay_loss`, weights only).
  public func decayLoss() -> Tensor {
    var total = Tensor(0)
    for (layer, decay) in zip(network.layers, weightDecays) { total = total + (layer.weight.square().sum() * (0.5 * decay)) }
    return total
  }

  /// The training loss of one minibatch: standardised inputs `[E, B, in]`, targets `[E, B, targetDim]`.
  public func loss(scaledInputs: Tensor, targets: Tensor, logVarianceCoefficient: Float = 0.01) -> Tensor {
    let (mean, logVariance) = meanAndLogVariance(scaledInputs)
    let inverseVariance = (-logVariance).exp()
    let weightedMSE = ((mean - targets).square() * inverseVariance).mean(axis: 2).mean(axis: 1).sum()
    let varianceLoss = logVariance.mean(axis: 2).mean(axis: 1).sum()
    return weightedMSE + varianceLoss + decayLoss()
      + logVarianceCoefficient * maxLogVariance.sum() - logVarianceCoefficient * minLogVariance.sum()
  }

  /// Each member's MSE of its mean on standardised inputs `[B, in]` and targets `[B, targetDim]`, averaged over
  /// rows and dimensions (OfflineRL-Kit `EnsembleDynamics.validate`).
  public func holdoutMSE(scaledInputs: Tensor, targets: Tensor) -> [Double] {
    withoutGradients {
      let mean = meanAndLogVariance(scaledInputs).mean
      return ((mean - targets).square().mean(axis: 2).mean(axis: 1)).scalars.map(Double.init)
    }
  }

  // MARK: Model step

  /// One model step from raw observations `[B, obs]` and actions `[B, act]`, as OfflineRL-Kit's
  /// `EnsembleDynamics.step`: every member predicts (μ, lv); the mean's state part is offset by s; a sample
  /// μ + σ·ε with ε = `noise` `[E, B, targetDim]`; per row the member `memberOfRow[b]` supplies s′ and r.
  /// `penalty[b]` = maxₑ ‖σₑ(s, a)‖₂ over all members (MOPO's "aleatoric" uncertainty, the reward dimension
  /// included).
  public func step(observations: Tensor, actions: Tensor, noise: Tensor, memberOfRow: [Int])
    -> (nextObservations: [Float], rewards: [Float], penalty: [Float]) {
    withoutGradients {
      let b = observations.shape[0], d = targetDim, od = observationDim
      let (mean, logVariance) = meanAndLogVariance(scale(Tensor.concat([observations, actions])))
      let std = (logVariance * 0.5).exp()
      let sample = (mean + std * noise).scalars, stdValues = std.scalars
      let obs = observations.scalars
      var next = [Float](repeating: 0, count: b * od), rewards = [Float](repeating: 0, count: b)
      var penalty = [Float](repeating: 0, count: b)
      for r in 0..<b {
        let e = memberOfRow[r]
        let base = (e * b + r) * d
        for k in 0..<od { next[r * od + k] = sample[base + k] + obs[r * od + k] }
        rewards[r] = sample[base + od]
        var worst: Float = 0
        for m in 0..<members {
          var s: Float = 0
          for k in 0..<d { let v = stdValues[(m * b + r) * d + k]; s += v * v }
          worst = Swift.max(worst, s.squareRoot())
        }
        penalty[r] = worst
      }
      return (next, rewards, penalty)
    }
  }
}
