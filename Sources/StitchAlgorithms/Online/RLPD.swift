import Foundation
import StitchData
import StitchNN

import StitchTensor

/// RLPD: online SAC from scratch with the offline dataset in every batch (Ball, Smith, Kostrikov & Levine,
/// "Efficient Online Reinforcement Learning with Offline Data", ICML 2023, arXiv 2302.02948), as its code
/// writes it (github.com/ikostrikov/rlpd @ c90fd4b, `rlpd/agents/sac/sac_learner.py`, `configs/rlpd_config.py`;
/// FACTS-2.md §3):
/// - symmetric sampling: each minibatch half dataset, half online buffer (`offline_ratio` 0.5, the trainer's
///   `.mixed` phase), after `start_training` uniformly random environment steps;
/// - an ensemble of N = 10 critics with LayerNorm (Dense → LayerNorm → ReLU), the target the minimum over a
///   random subset of M = 2 target critics (REDQ), minus γ·mask·α·log π(a'|s') (`backup_entropy`);
///   critic loss mean over members and rows of (Qᵢ(s, a) − y)²;
/// - `utd` = 20 critic steps per environment step, each followed by its Polyak step, then one actor step on the
///   last minibatch with loss E[α log π(a|s) − meanᵢ Qᵢ(s, a)] (the mean over all N critics, not the min), then
///   one temperature step with loss α·(H − H̄), H = −E log π from the actor step's sample, H̄ = −|A|/2;
/// - tanh-Gaussian actor, state-dependent log σ clipped to [−20, 2], log π with the exact tanh correction
///   (tfp's `Tanh` bijector); Xavier-uniform kernels and zero biases everywhere, LayerNorm scale 1, offset 0,
///   ε = 1e-6 (flax); Adam 3e-4 for all three; α₀ = 1; (256, 256) hidden.
///
/// One call of `update(on:)` is one critic step; every `utd`-th call also steps the actor and the temperature,
/// so with the trainer's `utd` updates per environment step the order is the reference's. The reference draws one
/// batch of 256·utd rows per environment step (dataset and online rows interleaved) and slices it into `utd`
/// minibatches of 128 + 128; here each minibatch is drawn on its own, 128 + 128: the same distribution.
/// Differences from the reference: the dataset's actions are not clipped to ±(1 − 1e-5) (RLPD never evaluates
/// log π of a dataset action).
public struct RLPD: Algorithm, AlgorithmState {
  public struct Configuration: Codable, Sendable {
    /// N, `num_qs`.
    public var critics = 10
    /// M, `num_min_qs`: target critics the minimum is taken over (REDQ).
    public var targetCritics = 2
    /// `critic_layer_norm`.
    public var criticLayerNorm = true
    public var hiddenSizes = [256, 256]
    public var discount: Float = 0.99
    /// τ.
    public var targetUpdateRate: Float = 0.005
    public var actorLearningRate: Float = 3e-4
    public var criticLearningRate: Float = 3e-4
    public var temperatureLearningRate: Float = 3e-4
    /// α₀, `init_temperature`.
    public var initialTemperature: Float = 1
    /// H̄ = −scale·|A| (the reference's default target entropy is −|A|/2).
    public var targetEntropyScale: Float = 0.5
    /// Subtract γ·mask·α·log π(a'|s') from the target (`backup_entropy`).
    public var backupEntropy = true
    /// Critic steps per environment step (`utd_ratio`; the README's runs use 20).
    public var utd = 20
    /// The dataset's share of each minibatch (`offline_ratio`).
    public var offlineRatio = 0.5
    /// Uniformly random environment steps before the first update (`start_training`; README: 5000).
    public var startTraining = 5000
  }

  public static let id = "rlpd"
  public static let summary = "RLPD (Ball et al. 2023): online SAC with 50/50 dataset batches, 10 LayerNorm critics, UTD 20"
  public static var defaultConfiguration: Configuration { Configuration() }
  public static var trainingDefaults: TrainingDefaults { TrainingDefaults(batchSize: 256, normalizeObservations: false) }

  let config: Configuration
  let targetEntropy: Float
  var actor: MLP
  var critics, targetCritics: EnsembleMLP
  var logTemperature: Tensor
  var actorOptimizer, criticOptimizer, temperatureOptimizer: Adam
  var noise: RandomStream
  var criticSteps = 0

  public init(configuration c: Configuration, task: TaskSpec, rng: RandomStream) {
    config = c
    targetEntropy = -c.targetEntropyScale * Float(task.actionDim)
    var initRNG = rng.child(named: "init")
    let od = task.observationDim, ad = task.actionDim
    actor = MLP(inputSize: od, hiddenSizes: c.hiddenSizes, outputSize: 2 * ad, rng: &initRNG)
    var sizes = [od] + c.hiddenSizes
    for i in actor.hidden.indices {
      actor.hidden[i].weight = Initializer.xavierUniform(rows: sizes[i + 1], cols: sizes[i], gain: 1, using: &initRNG)
      actor.hidden[i].bias = Tensor.zeros([sizes[i + 1]])
    }
    // Two heads in the reference (`OutputDenseMean`, `OutputDenseLogStd`), each Xavier over its own [h, |A|].
    let h = sizes.last!
    let mean = Initializer.xavierUniform(rows: ad, cols: h, gain: 1, using: &initRNG)
    let logStd = Initializer.xavierUniform(rows: ad, cols: h, gain: 1, using: &initRNG)
    actor.output.weight = Tensor(shape: [2 * ad, h], scalars: mean.scalars + logStd.scalars)
    actor.output.bias = Tensor.zeros([2 * ad])
    critics = EnsembleMLP(members: c.critics, inputSize: od + ad, hiddenSizes: c.hiddenSizes, outputSize: 1,
                          layerNorm: c.criticLayerNorm, layerNormEpsilon: 1e-6, rng: &initRNG)
    sizes = [od + ad] + c.hiddenSizes + [1]
    for i in critics.layers.indices {
      var kernels: [Float] = []
      for _ in 0..<c.critics { kernels += Initializer.xavierUniform(rows: sizes[i + 1], cols: sizes[i], gain: 1, using: &initRNG).scalars }
      critics.layers[i].weight = Tensor(shape: [c.critics, sizes[i + 1], sizes[i]], scalars: kernels)
      critics.layers[i].bias = Tensor.zeros([c.critics, sizes[i + 1]])
    }
    targetCritics = critics
    logTemperature = Tensor([Float(Foundation.log(Double(c.initialTemperature)))])
    actorOptimizer = Adam(learningRate: c.actorLearningRate)
    criticOptimizer = Adam(learningRate: c.criticLearningRate)
    temperatureOptimizer = Adam(learningRate: c.temperatureLearningRate)
    noise = rng.child(named: "noise")
  }

  /// The tanh-Gaussian at `observations`: means and log σ (clipped to [−20, 2]) from the two heads.
  static func policy(_ actor: MLP, _ observations: Tensor) -> TanhGaussian {
    let out = actor(observations)
    let d = out.shape[1] / 2
    return TanhGaussian(mean: out.slice(lastAxis: 0..<d), logStd: out.slice(lastAxis: d..<(2 * d)).clamped(min: -20, max: 2))
  }

  /// Qᵢ(s, a) as `[N, B]`.
  static func q(_ critics: EnsembleMLP, _ s: Tensor, _ a: Tensor) -> Tensor {
    critics(Tensor.concat([s, a])).reshaped([critics.members, s.shape[0]])
  }

  /// The random numbers of one critic step (and, on every `utd`-th, of the actor step), in the order they are
  /// drawn: ε′ for the next action [B, |A|], the M target critics (distinct, uniformly chosen), ε for the actor.
  struct Draws {
    var next: Tensor
    var subset: [Int]
    var actor: Tensor?
  }

  public mutating func update(on batch: Batch) throws -> Metrics {
    let shape = batch.actions.shape
    let next = Tensor.normal(shape, using: &noise)
    let subset = Self.targetSubset(of: config.critics, size: config.targetCritics, using: &noise)
    let actorStep = (criticSteps + 1) % config.utd == 0
    let actorNoise = actorStep ? Tensor.normal(shape, using: &noise) : nil
    return try update(on: batch, draws: Draws(next: next, subset: subset, actor: actorNoise))
  }

  /// `size` distinct members of `members`, uniformly (the reference's `jax.random.choice(…, replace=False)`).
  static func targetSubset(of members: Int, size: Int, using rng: inout RandomStream) -> [Int] {
    var pool = Array(0..<members), subset: [Int] = []
    for _ in 0..<Swift.min(size, members) { subset.append(pool.remove(at: rng.nextInt(below: pool.count))) }
    return subset
  }

  /// One critic step with given draws, then the actor and temperature steps when `draws.actor` is given.
  mutating func update(on batch: Batch, draws: Draws) throws -> Metrics {
    criticSteps += 1
    let b = batch.size
    // Critic: y = r + γ·m·minⱼ∈subset Q'ⱼ(s', a') − γ·m·α·log π(a'|s'), a' from the current actor.
    let alpha = logTemperature.exp().scalar
    let dist = Self.policy(actor, batch.nextObservations)
    let u = dist.base.sample(noise: draws.next)
    let nextAction = u.tanh(), nextLogProb = dist.logProbability(preTanh: u).scalars
    // Only the subset's target critics are evaluated (the reference applies the ensemble to the subset's params).
    let nextQs = Self.q(targetCritics.selecting(members: draws.subset), batch.nextObservations, nextAction).scalars
    let rewards = batch.rewards.scalars, terminals = batch.terminals.scalars
    var target = [Float](repeating: 0, count: b)
    for i in 0..<b {
      var nextQ = Float.infinity
      for j in draws.subset.indices { nextQ = Swift.min(nextQ, nextQs[j * b + i]) }
      let mask = 1 - terminals[i]
      var y = rewards[i] + config.discount * mask * nextQ
      if config.backupEntropy { y -= config.discount * mask * alpha * nextLogProb[i] }
      target[i] = y
    }
    let targets = Tensor(shape: [1, b], scalars: target)
    var predicted = Tensor(0)
    let (criticLoss, criticGrad) = try valueWithGradient(at: critics) { q in
      let qa = Self.q(q, batch.observations, batch.actions)
      predicted = qa.detached()
      return (qa - targets).square().mean()
    }
    criticOptimizer.update(&critics, along: criticGrad)
    targetCritics.moveTowards(critics, rate: config.targetUpdateRate)
    var metrics: Metrics = ["critic_loss": Double(criticLoss), "alpha": Double(alpha)]
    metrics.merge(QStatistics.of(predicted)) { $1 }
    guard let actorNoise = draws.actor else { return metrics }
    // Actor: α·log π(a|s) − meanᵢ Qᵢ(s, a) with the critics after this environment step's critic steps.
    let critics = self.critics
    var logProbs = Tensor(0)
    let (actorLoss, actorGrad) = try valueWithGradient(at: actor) { actor in
      let dist = Self.policy(actor, batch.observations)
      let u = dist.base.sample(noise: actorNoise)
      let logProb = dist.logProbability(preTanh: u)
      logProbs = logProb.detached()
      return (logProb * alpha - Self.q(critics, batch.observations, u.tanh()).mean(axis: 0)).mean()
    }
    actorOptimizer.update(&actor, along: actorGrad)
    // Temperature: α·(H − H̄), H the entropy estimate of the actor step (its sample, before its step).
    let entropy = -logProbs.mean().scalar
    let gap = entropy - targetEntropy
    let (temperatureLoss, temperatureGrad) = try valueWithGradient(at: logTemperature) { logAlpha in (logAlpha.exp() * gap).sum() }
    temperatureOptimizer.update(&logTemperature, along: temperatureGrad)
    metrics["actor_loss"] = Double(actorLoss)
    metrics["entropy"] = Double(entropy)
    metrics["temperature_loss"] = Double(temperatureLoss)
    return metrics
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
    try v.counter(&criticSteps, "critic_steps")
  }
}

extension RLPD.Configuration: CheckedConfiguration, OnlineWithDataset {
  public func check(_ checks: inout ConfigChecks) {
    checks.atLeast("critics", critics, 1)
    checks.atLeast("target_critics", targetCritics, 1)
    checks.require(targetCritics <= critics, "target_critics", targetCritics, "must be at most critics (\(critics)): the target subset is drawn from them")
    checks.atLeast("utd", utd, 1)
    checks.atLeast("start_training", startTraining, 0)
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.learningRates(["actor_learning_rate": actorLearningRate, "critic_learning_rate": criticLearningRate,
                          "temperature_learning_rate": temperatureLearningRate])
    checks.positive("initial_temperature", initialTemperature)
    checks.layerSizes("hidden_sizes", hiddenSizes)
    checks.require(offlineRatio >= 0 && offlineRatio <= 1, "offline_ratio", offlineRatio, "must lie in [0, 1]")
  }
  /// The reference's flag and config names.
  public static var referenceNames: [String: String] {
    ["num_qs": "critics", "num_min_qs": "target_critics", "hidden_dims": "hidden_sizes",
     "tau": "target_update_rate", "actor_lr": "actor_learning_rate", "critic_lr": "critic_learning_rate",
     "temp_lr": "temperature_learning_rate", "init_temperature": "initial_temperature", "utd_ratio": "utd"]
  }
  public var datasetFraction: Double { offlineRatio }
  public var updatesPerStep: Int { utd }
  public var randomSteps: Int { startTraining }
}
