import Foundation
import StitchData
import StitchNN

import StitchTensor

/// The soft actor-critic with N critics that SAC-N (`SACN.swift`) and EDAC (`EDAC.swift`) share, as CORL's
/// `algorithms/offline/sac_n.py` and `edac.py` write it (An, Moon, Kim & Song, "Uncertainty-Based Offline
/// Reinforcement Learning with Diversified Q-Ensemble", NeurIPS 2021, arXiv 2110.01548, §3–4):
/// - critic target y = r + γ(1 − d)(minᵢ Q'ᵢ(s', a') − α log π(a'|s')), loss Σᵢ mean (Qᵢ(s, a) − y)², plus
///   η·L_div when `Settings.diversity` is set (EDAC);
/// - actor loss E[α log π(a|s) − minᵢ Qᵢ(s, a)], temperature loss −log α·(log π + H̄), H̄ = −dim(A), α₀ = 1;
/// - CORL's update order, which it reports the EDAC paper uses ("reverse ... gives better results"): the
///   temperature first (from its own sample at s), then the actor with the new α, then the critics with the new α
///   and the stepped actor's sample at s', then the Polyak step of the targets; each step draws a fresh sample;
/// - the policy's log-density as CORL's `Actor` computes it: log N(u) − Σ log(1 − tanh²(u) + 1e-6) (not the exact
///   correction of `TanhGaussian`).
/// Networks: 3 hidden layers of 256, hidden biases 0.1, last layers U(±3e-3) (critic) and U(±1e-3) (actor),
/// log σ clipped to [−5, 2] (CORL's "init as in the EDAC paper"). Differences from the reference: the N critics
/// are one `EnsembleMLP` (CORL's `VectorizedLinear`, the same math).
public struct EnsembleSAC: AlgorithmState {
  public struct Settings: Sendable {
    public var members: Int
    public var eta: Float
    public var discount: Float
    public var targetUpdateRate: Float
    public var actorLearningRate: Float
    public var criticLearningRate: Float
    public var temperatureLearningRate: Float
    public var hiddenSizes: [Int]
    /// EDAC's diversity loss L_div(critics, s, a), added to the critic loss with weight `eta` when eta > 0 (nil
    /// for SAC-N).
    public var diversity: (@Sendable (EnsembleMLP, Tensor, Tensor) -> Tensor)? = nil
    /// α₀ (CORL: 1; the edge-of-reach code's RAVL: 0.1).
    public var initialTemperature: Float = 1
  }

  let settings: Settings
  let targetEntropy: Float
  var actor: MLP
  var critics, targetCritics: EnsembleMLP
  var logTemperature: Tensor
  var actorOptimizer, criticOptimizer, temperatureOptimizer: Adam
  var noise: RandomStream
  let actionDim: Int

  public init(_ settings: Settings, task: TaskSpec, rng: RandomStream) {
    self.settings = settings
    targetEntropy = -Float(task.actionDim)
    actionDim = task.actionDim
    var initRNG = rng.child(named: "init")
    actor = MLP(inputSize: task.observationDim, hiddenSizes: settings.hiddenSizes, outputSize: 2 * task.actionDim, rng: &initRNG)
    for i in actor.hidden.indices { actor.hidden[i].bias = Tensor(repeating: 0.1, shape: [settings.hiddenSizes[i]]) }
    actor.output.weight = Tensor.uniform(actor.output.weight.shape, in: -1e-3...1e-3, using: &initRNG)
    actor.output.bias = Tensor.uniform([2 * task.actionDim], in: -1e-3...1e-3, using: &initRNG)
    critics = EnsembleMLP(members: settings.members, inputSize: task.observationDim + task.actionDim, hiddenSizes: settings.hiddenSizes,
                          outputSize: 1, rng: &initRNG)
    for i in 0..<(critics.layers.count - 1) { critics.layers[i].bias = Tensor(repeating: 0.1, shape: critics.layers[i].bias.shape) }
    let last = critics.layers.count - 1
    critics.layers[last].weight = Tensor.uniform(critics.layers[last].weight.shape, in: -3e-3...3e-3, using: &initRNG)
    critics.layers[last].bias = Tensor.uniform(critics.layers[last].bias.shape, in: -3e-3...3e-3, using: &initRNG)
    targetCritics = critics
    logTemperature = Tensor([Float(Foundation.log(Double(settings.initialTemperature)))])
    actorOptimizer = Adam(learningRate: settings.actorLearningRate)
    criticOptimizer = Adam(learningRate: settings.criticLearningRate)
    temperatureOptimizer = Adam(learningRate: settings.temperatureLearningRate)
    noise = rng.child(named: "noise")
  }

  static func policy(_ actor: MLP, _ observations: Tensor) -> TanhGaussian {
    let out = actor(observations)
    let d = out.shape[1] / 2
    return TanhGaussian(mean: out.slice(lastAxis: 0..<d), logStd: out.slice(lastAxis: d..<(2 * d)).clamped(min: -5, max: 2))
  }

  /// A reparameterised action tanh(μ + σε) and its log-density as CORL's edac.py/sac_n.py `Actor` computes it:
  /// log N(u; μ, σ) − Σ log(1 − tanh²(u) + 1e-6).
  static func sample(_ actor: MLP, _ observations: Tensor, noise: Tensor) -> (action: Tensor, logProbability: Tensor) {
    let dist = policy(actor, observations)
    let u = dist.base.sample(noise: noise)
    let a = u.tanh()
    return (a, dist.base.logProbability(u) - (1 - a.square() + 1e-6).log().sum(axis: -1))
  }

  /// The standard normals of one update, in the order it uses them: the temperature's sample at s, the actor's
  /// at s, the next action's at s' (each [B, A]).
  struct Draws {
    var temperature, actor, next: Tensor
  }

  /// Qᵢ(s, a) as `[N, B]`.
  static func q(_ critics: EnsembleMLP, _ s: Tensor, _ a: Tensor) -> Tensor {
    critics(Tensor.concat([s, a])).reshaped([critics.members, s.shape[0]])
  }

  public mutating func update(on batch: Batch) throws -> Metrics {
    let shape = batch.actions.shape
    let temperatureNoise = Tensor.normal(shape, using: &noise)
    let actorNoise = Tensor.normal(shape, using: &noise)
    let nextNoise = Tensor.normal(shape, using: &noise)
    return try update(on: batch, draws: Draws(temperature: temperatureNoise, actor: actorNoise, next: nextNoise))
  }

  /// One update in CORL's order (temperature, actor, critics, targets) with given draws.
  mutating func update(on batch: Batch, draws: Draws) throws -> Metrics {
    // Temperature: −log α·(log π(a|s) + H̄) with a sample of the actor before its step.
    let logProbForAlpha = Self.sample(actor, batch.observations, noise: draws.temperature).logProbability.detached()
    let entropyGap = (logProbForAlpha + targetEntropy).mean().scalar
    let (_, alphaGrad) = try valueWithGradient(at: logTemperature) { logAlpha in -(logAlpha * entropyGap).sum() }
    temperatureOptimizer.update(&logTemperature, along: alphaGrad)
    let alpha = logTemperature.exp().scalar
    // Actor: α log π(a|s) − minᵢ Qᵢ(s, a) with the new α and the critics before their step.
    let critics = self.critics
    let (actorLoss, actorGrad) = try valueWithGradient(at: actor) { actor in
      let (a, logProb) = Self.sample(actor, batch.observations, noise: draws.actor)
      return (logProb * alpha - Self.q(critics, batch.observations, a).min(axis: 0)).mean()
    }
    actorOptimizer.update(&actor, along: actorGrad)
    // Critics: target from the stepped actor's sample at s' and the new α.
    let (nextAction, nextLogProb) = Self.sample(actor, batch.nextObservations, noise: draws.next)
    let nextQ = Self.q(targetCritics, batch.nextObservations, nextAction).min(axis: 0) - nextLogProb * alpha
    let target = batch.rewards.column + (1 - batch.terminals.column) * settings.discount * nextQ
    let eta = settings.eta
    let diversity = eta > 0 ? settings.diversity : nil
    var diversityValue: Float = 0
    var predicted = Tensor(0)
    let (criticLoss, criticGrad) = try valueWithGradient(at: critics) { q in
      let qa = Self.q(q, batch.observations, batch.actions)
      predicted = qa.detached()
      var loss = (qa - target).square().mean(axis: 1).sum()
      if let diversity {
        let d = diversity(q, batch.observations, batch.actions)
        diversityValue = d.detached().scalar
        loss = loss + eta * d
      }
      return loss
    }
    criticOptimizer.update(&self.critics, along: criticGrad)
    targetCritics.moveTowards(self.critics, rate: settings.targetUpdateRate)
    var metrics: Metrics = ["critic_loss": Double(criticLoss), "actor_loss": Double(actorLoss), "alpha": Double(alpha)]
    if diversity != nil { metrics["diversity_loss"] = Double(diversityValue) }
    metrics.merge(QStatistics.of(predicted)) { $1 }
    return metrics
  }

  /// V(s) = minᵢ Qᵢ(s, μ(s)) at the policy's mode, `[B]` (logged at model rollouts' last states).
  public func value(_ observations: Tensor) -> Tensor {
    Self.q(critics, observations, Self.policy(actor, observations).mode).min(axis: 0)
  }

  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor {
    let dist = Self.policy(actor, observations)
    return exploring ? dist.sampleWithLogProbability(using: &rng).action : dist.mode
  }

  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) {
    try v.network(&actor, "actor.")
    try v.network(&critics, "critic.")
    try v.network(&targetCritics, "target_critic.")
    try v.tensor(&logTemperature, "log_alpha")
    try v.optimizer(&actorOptimizer, "actor_optimizer.", of: actor)
    try v.optimizer(&criticOptimizer, "critic_optimizer.", of: critics)
    try v.optimizer(&temperatureOptimizer, "alpha_optimizer.", of: logTemperature)
    try v.randomStream(&noise, "noise_rng")
  }
}
