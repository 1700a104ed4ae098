import Foundation
import StitchData
import StitchNN

import StitchTensor

/// WSRL, warm-start RL (Zhou, Peng, Li, Levine & Kumar, "Efficient Online Reinforcement Learning Fine-Tuning Need
/// Not Retain Offline Data", ICLR 2025, arXiv 2412.07762), as its code writes it (github.com/zhouzypaul/wsrl
/// @ 891ee35; FACTS.md §2g). Two phases, one set of networks:
/// - **offline** (`stitch train --algo wsrl`): WSRL's own CQL (`agents/cql.py`, `launch_cql_finetune.sh
///   --use_redq`: `cql_config` + `locomotion_cql` + `add_redq_config`), in `WSRL+CQL.swift`;
/// - **online** (`stitch finetune`, whose WSRL defaults are the recipe: no offline data, 5000 warm-up steps with
///   the pretrained policy, then UTD 4 on batches of 1024): WSRL's SAC (`agents/sac.py` with `wsrl_config` +
///   `locomotion_wsrl`, `update_high_utd`), below. The reference restores the CQL checkpoint, optimizer states
///   included, into the SAC agent (`--resume_path`); Stitch's fine-tuning keeps every tensor and optimizer too.
///
/// Networks (`networks/mlp.py`, `actor_critic_nets.py`, `common/initialization.py`): Dense → LayerNorm (flax,
/// ε = 1e-6) → ReLU per hidden layer (256, 256), the last one activated too; every kernel orthogonal with gain √2
/// except the last hidden layer's, orthogonal with gain 0.01 (`kernel_scale_final`), biases zero. The actor's
/// mean and log-σ heads are separate Dense(|A|) layers; σ = clip(exp(log σ), 1e-5, 10), tanh-squashed. The 10
/// critics share their output layer (`SharedHeadEnsemble`). The temperature is a softplus-parameterised Lagrange
/// multiplier (`GeqLagrangeMultiplier`, init 1: raw log(e − 1)) with loss λ·(H − H̄), H̄ = −|A|.
///
/// Each update is `apply_loss_fns`: one Adam per network, each stepping the **whole** parameter tree with its own
/// loss's gradient, so a network whose loss is switched off for an update still takes an Adam step with a zero
/// gradient (its momentum moves it on). In `update_high_utd` the actor and temperature take such a step at each of
/// the U critic steps, and the critics at the actor step (without a Polyak step). Stitch repeats those steps.
///
/// Differences from the reference: the warm-up's last environment step makes the first update (the reference's
/// first update is one step later, `step > max(warmup_steps, batch_size)`); dataset actions are not clipped to
/// ±0.99999 (`clip_action`; Stitch's files hold sampled tanh actions in (−1, 1)).
public struct WSRL: Algorithm, AlgorithmState {
  public struct Configuration: Codable, Sendable {
    /// `critic_ensemble_size`.
    public var critics = 10
    /// `critic_subsample_size`: target critics the minimum is taken over, drawn **with** replacement
    /// (`jax.random.randint`), as are the CQL term's critics offline.
    public var targetCritics = 2
    public var hiddenSizes = [256, 256]
    /// `use_layer_norm`, in the actor and the critics.
    public var layerNorm = true
    /// `kernel_scale_final`: the orthogonal gain of the last hidden layer's kernel (actor and critics).
    public var finalHiddenGain: Float = 0.01
    public var discount: Float = 0.99
    /// τ, `soft_target_update_rate`.
    public var targetUpdateRate: Float = 0.005
    public var actorLearningRate: Float = 1e-4
    public var criticLearningRate: Float = 3e-4
    public var temperatureLearningRate: Float = 1e-4
    /// `temperature_init`.
    public var initialTemperature: Float = 1
    /// H̄ = −scale·|A| (the reference replaces its config's 0 by −|A|).
    public var targetEntropyScale: Float = 1
    /// Offline: α of the CQL term (`cql_alpha`; `locomotion_cql`: 5).
    public var conservativeWeight: Float = 5
    /// Offline: actions per state in the CQL term and in the max backup (`cql_n_actions`).
    public var sampledActions = 10
    /// Offline: the target is the max over `sampled_actions` next actions (`cql_max_target_backup`).
    public var maxTargetBackup = true
    /// Offline: subtract the proposals' log densities in the log-sum-exp (`cql_importance_sample`).
    public var importanceSampling = true
    /// Offline: the log-sum-exp's temperature (`cql_temp`).
    public var logsumexpTemperature: Float = 1
    /// Online: critic steps per update, each on its own slice of the update's batch, before one actor and
    /// temperature step on the whole batch (`update_high_utd`, `--utd 4`). `stitch finetune --utd` sets it.
    public var utd = 4
  }

  public static let id = "wsrl"
  public static let summary = "WSRL (Zhou et al. 2025): CQL pretraining on 10 LayerNorm critics, then warm-up and UTD-4 SAC without offline data"
  public static var defaultConfiguration: Configuration { Configuration() }
  public static var trainingDefaults: TrainingDefaults { TrainingDefaults(batchSize: 256, normalizeObservations: false) }

  let config: Configuration
  let targetEntropy: Float
  var actor: MLP
  var critics, targetCritics: SharedHeadEnsemble
  /// The temperature's raw parameter; λ = softplus(raw).
  var temperatureParameter: Tensor
  var actorOptimizer, criticOptimizer, temperatureOptimizer: Adam
  var noise: RandomStream
  /// The phase the trainer last announced (not checkpointed: the trainer announces it again after a resume).
  var online = false

  public init(configuration c: Configuration, task: TaskSpec, rng: RandomStream) {
    config = c
    targetEntropy = -c.targetEntropyScale * Float(task.actionDim)
    var initRNG = rng.child(named: "init")
    let od = task.observationDim, ad = task.actionDim
    let root2 = Float(2).squareRoot()
    func gain(_ layer: Int) -> Float { layer == c.hiddenSizes.count - 1 ? c.finalHiddenGain : root2 }
    actor = MLP(inputSize: od, hiddenSizes: c.hiddenSizes, outputSize: 2 * ad, layerNorm: c.layerNorm, rng: &initRNG)
    var sizes = [od] + c.hiddenSizes
    for i in actor.hidden.indices {
      actor.hidden[i].weight = Initializer.orthogonal(rows: sizes[i + 1], cols: sizes[i], gain: gain(i), using: &initRNG)
      actor.hidden[i].bias = Tensor.zeros([sizes[i + 1]])
    }
    for i in actor.norms.indices { actor.norms[i].epsilon = 1e-6 }
    let h = c.hiddenSizes.last!
    let mean = Initializer.orthogonal(rows: ad, cols: h, gain: root2, using: &initRNG)
    let logStd = Initializer.orthogonal(rows: ad, cols: h, gain: root2, using: &initRNG)
    actor.output.weight = Tensor(shape: [2 * ad, h], scalars: mean.scalars + logStd.scalars)
    actor.output.bias = Tensor.zeros([2 * ad])
    critics = SharedHeadEnsemble(members: c.critics, inputSize: od + ad, hiddenSizes: c.hiddenSizes, layerNorm: c.layerNorm, rng: &initRNG)
    sizes = [od + ad] + c.hiddenSizes
    for i in critics.layers.indices {
      var kernels: [Float] = []
      for _ in 0..<c.critics { kernels += Initializer.orthogonal(rows: sizes[i + 1], cols: sizes[i], gain: gain(i), using: &initRNG).scalars }
      critics.layers[i].weight = Tensor(shape: [c.critics, sizes[i + 1], sizes[i]], scalars: kernels)
      critics.layers[i].bias = Tensor.zeros([c.critics, sizes[i + 1]])
    }
    critics.head.weight = Initializer.orthogonal(rows: 1, cols: h, gain: root2, using: &initRNG)
    critics.head.bias = Tensor.zeros([1])
    targetCritics = critics
    // softplus⁻¹(λ₀) = log(e^λ₀ − 1), as `LagrangeMultiplier` computes its initial value.
    temperatureParameter = Tensor([Float(Foundation.log(Foundation.exp(Double(c.initialTemperature)) - 1))])
    actorOptimizer = Adam(learningRate: c.actorLearningRate)
    criticOptimizer = Adam(learningRate: c.criticLearningRate)
    temperatureOptimizer = Adam(learningRate: c.temperatureLearningRate)
    noise = rng.child(named: "noise")
  }

  /// The tanh-Gaussian at `observations`: mean and log σ heads, σ clipped to [1e-5, 10] (as a clip of log σ).
  static func policy(_ actor: MLP, _ observations: Tensor) -> TanhGaussian {
    let out = actor(observations)
    let d = out.shape[1] / 2
    return TanhGaussian(mean: out.slice(lastAxis: 0..<d),
                        logStd: out.slice(lastAxis: d..<(2 * d)).clamped(min: Float(Foundation.log(1e-5)), max: Float(Foundation.log(10.0))))
  }

  /// `n` samples per state: the policy's rows each repeated n times (row i·n + k is state i's k-th sample),
  /// reparameterised with `noise` [B·n, |A|]; actions and log π (`forward_policy_and_sample(repeat=n)`).
  static func samples(_ actor: MLP, _ observations: Tensor, n: Int, noise: Tensor) -> (actions: Tensor, logProbs: Tensor) {
    let dist = policy(actor, observations)
    let repeated = TanhGaussian(mean: repeatRows(dist.base.mean, n), logStd: repeatRows(dist.base.logStd, n))
    let u = repeated.base.sample(noise: noise)
    return (u.tanh(), repeated.logProbability(preTanh: u))
  }

  /// Qᵢ(s, a) as `[E, B]`.
  static func q(_ critics: SharedHeadEnsemble, _ s: Tensor, _ a: Tensor) -> Tensor {
    critics(Tensor.concat([s, a])).reshaped([critics.members, s.shape[0]])
  }

  /// λ = softplus(raw).
  var temperature: Float { temperatureParameter.softplus().scalar }

  /// `k` critic indices drawn uniformly with replacement (`jax.random.randint(key, (k,), 0, E)`).
  static func subset(of members: Int, size: Int, using rng: inout RandomStream) -> [Int] {
    (0..<size).map { _ in rng.nextInt(below: members) }
  }

  /// The random numbers of one online update (`update_high_utd`), in the order they are drawn: per critic step
  /// the next-action normal [b, |A|] and the target subset; then the actor's normal and the temperature loss's
  /// next-action normal, both [U·b, |A|].
  struct OnlineDraws {
    var next: [Tensor]
    var subsets: [[Int]]
    var actor: Tensor
    var temperature: Tensor
  }

  public mutating func update(on batch: Batch) throws -> Metrics {
    online ? try onlineUpdate(on: batch) : try offlineUpdate(on: batch)
  }

  mutating func onlineUpdate(on batch: Batch) throws -> Metrics {
    let u = config.utd
    guard batch.size % u == 0 else {
      throw WSRLError("wsrl's online update splits each batch into utd = \(u) minibatches; the batch of \(batch.size) rows does not divide (use a batch size that is a multiple of \(u), e.g. \(256 * u))")
    }
    let b = batch.size / u, ad = batch.actions.shape[1]
    var next: [Tensor] = [], subsets: [[Int]] = []
    for _ in 0..<u {
      next.append(Tensor.normal([b, ad], using: &noise))
      subsets.append(Self.subset(of: config.critics, size: config.targetCritics, using: &noise))
    }
    let actorNoise = Tensor.normal([batch.size, ad], using: &noise)
    let temperatureNoise = Tensor.normal([batch.size, ad], using: &noise)
    return try onlineUpdate(on: batch, draws: OnlineDraws(next: next, subsets: subsets, actor: actorNoise, temperature: temperatureNoise))
  }

  /// U critic steps (SAC's TD loss on minibatch j = rows j·b ..< (j+1)·b; the actor and temperature idle), then
  /// one actor and temperature step on the whole batch (the critics idle, no Polyak step).
  mutating func onlineUpdate(on batch: Batch, draws: OnlineDraws) throws -> Metrics {
    let u = draws.next.count, b = batch.size / u
    var criticLoss = 0.0, predicted: [Tensor] = []
    for j in 0..<u {
      let mini = batch.rows(j * b ..< (j + 1) * b)
      let (loss, q) = try tdStep(on: mini, next: draws.next[j], subset: draws.subsets[j])
      criticLoss += loss / Double(u)
      predicted.append(q)
      actorOptimizer.idleStep(&actor)
      temperatureOptimizer.idleStep(&temperatureParameter)
    }
    var metrics = try actorAndTemperatureStep(on: batch, actorNoise: draws.actor, temperatureNoise: draws.temperature, samples: 1)
    criticOptimizer.idleStep(&critics)
    metrics["critic_loss"] = criticLoss
    metrics.merge(QStatistics.of(Tensor(predicted.flatMap(\.scalars)))) { $1 }
    return metrics
  }

  /// One SAC critic step (`SACAgent.critic_loss_fn` without entropy backup): y = r + γ·m·min_{j∈subset} Q′ⱼ(s′, a′),
  /// a′ ~ π(s′); loss the mean over all critics and rows of (Qᵢ(s, a) − y)²; then the Polyak step.
  mutating func tdStep(on batch: Batch, next: Tensor, subset: [Int]) throws -> (Double, Tensor) {
    let (nextActions, _) = Self.samples(actor, batch.nextObservations, n: 1, noise: next)
    let nextQs = Self.q(targetCritics.selecting(members: subset), batch.nextObservations, nextActions).min(axis: 0)
    let targets = (batch.rewards.reshaped([1, batch.size]) + (1 - batch.terminals.reshaped([1, batch.size])) * nextQs.reshaped([1, batch.size]) * config.discount).detached()
    var predicted = Tensor(0)
    let (loss, grad) = try valueWithGradient(at: critics) { q in
      let qa = Self.q(q, batch.observations, batch.actions)
      predicted = qa.detached()
      return (qa - targets).square().mean()
    }
    criticOptimizer.update(&critics, along: grad)
    targetCritics.moveTowards(critics, rate: config.targetUpdateRate)
    return (Double(loss), predicted)
  }

  /// The actor's loss E[λ·log π(a|s) − minᵢ Qᵢ(s, a)] and the temperature's λ·(H − H̄), H = −E log π(a′|s′) over
  /// `samples` next actions per row (`temperature_loss_fn` samples at the next observations), both from the
  /// parameters before this step; then both Adam steps.
  func actorAndTemperatureGradients(on batch: Batch, actorNoise: Tensor, temperatureNoise: Tensor, samples: Int) throws
    -> (actor: MLP, temperature: Tensor, metrics: Metrics) {
    let lambda = temperature, critics = self.critics
    var entropyOfActor = Tensor(0)
    let (actorLoss, actorGrad) = try valueWithGradient(at: actor) { actor in
      let (a, logProb) = Self.samples(actor, batch.observations, n: 1, noise: actorNoise)
      entropyOfActor = -logProb.detached().mean()
      return (logProb * lambda).mean() - Self.q(critics, batch.observations, a).min(axis: 0).mean()
    }
    let (_, nextLogProbs) = Self.samples(actor, batch.nextObservations, n: samples, noise: temperatureNoise)
    let entropy = -nextLogProbs.mean().scalar
    let gap = entropy - targetEntropy
    let (temperatureLoss, temperatureGrad) = try valueWithGradient(at: temperatureParameter) { raw in (raw.softplus() * gap).sum() }
    return (actorGrad, temperatureGrad, ["actor_loss": Double(actorLoss), "entropy": Double(entropyOfActor.scalar),
                                         "temperature": Double(lambda), "temperature_loss": Double(temperatureLoss)])
  }

  mutating func actorAndTemperatureStep(on batch: Batch, actorNoise: Tensor, temperatureNoise: Tensor, samples: Int) throws -> Metrics {
    let (actorGrad, temperatureGrad, metrics) = try actorAndTemperatureGradients(on: batch, actorNoise: actorNoise, temperatureNoise: temperatureNoise, samples: samples)
    actorOptimizer.update(&actor, along: actorGrad)
    temperatureOptimizer.update(&temperatureParameter, along: temperatureGrad)
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
    try v.tensor(&temperatureParameter, "temperature")
    try v.optimizer(&actorOptimizer, "actor_optimizer.", of: actor)
    try v.optimizer(&criticOptimizer, "critic_optimizer.", of: critics)
    try v.optimizer(&temperatureOptimizer, "temperature_optimizer.", of: temperatureParameter)
    try v.randomStream(&noise, "noise_rng")
  }
}

/// A batch an update cannot use.
public struct WSRLError: Error, CustomStringConvertible {
  public let description: String
  init(_ d: String) { description = d }
}

extension WSRL: PhaseObserver {
  /// Offline updates are WSRL's CQL, online ones its SAC.
  public mutating func phaseChanged(online: Bool) { self.online = online }
}

extension Adam {
  /// One step with a zero gradient: the moments decay and the parameters move by what momentum remains, as
  /// optax's Adam does for a network whose loss an update switched off (WSRL's `apply_loss_fns`).
  mutating func idleStep<G: ParameterGroup>(_ model: inout G) {
    var zero = model
    zero.visitParameters("") { _, t in t = Tensor.zeros(t.shape) }
    update(&model, along: zero)
  }
}

extension Batch {
  /// Rows `range` of every field.
  func rows(_ range: Range<Int>) -> Batch {
    var out = self
    out.observations = observations.slice(rows: range)
    out.actions = actions.slice(rows: range)
    out.rewards = rewards.slice(rows: range)
    out.nextObservations = nextObservations.slice(rows: range)
    out.terminals = terminals.slice(rows: range)
    out.nextActions = nextActions.slice(rows: range)
    out.nextActionsKnown = nextActionsKnown.slice(rows: range)
    out.returnsToGo = returnsToGo.slice(rows: range)
    return out
  }
}

extension WSRL.Configuration: SplitsBatchAcrossCriticSteps {
  public var updatesPerBatch: Int { utd }
}

extension WSRL.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.atLeast("critics", critics, 1)
    checks.atLeast("target_critics", targetCritics, 1)
    checks.atLeast("utd", utd, 1)
    checks.atLeast("sampled_actions", sampledActions, 1)
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.learningRates(["actor_learning_rate": actorLearningRate, "critic_learning_rate": criticLearningRate,
                          "temperature_learning_rate": temperatureLearningRate])
    checks.positive("initial_temperature", initialTemperature)
    checks.positive("logsumexp_temperature", logsumexpTemperature)
    checks.require(conservativeWeight.isFinite && conservativeWeight >= 0, "conservative_weight", conservativeWeight, "must be a finite number ≥ 0")
    checks.require(finalHiddenGain.isFinite && finalHiddenGain > 0, "final_hidden_gain", finalHiddenGain, "must be a positive number")
    checks.layerSizes("hidden_sizes", hiddenSizes)
  }
  /// The reference's config names.
  public static var referenceNames: [String: String] {
    ["critic_ensemble_size": "critics", "critic_subsample_size": "target_critics", "hidden_dims": "hidden_sizes",
     "use_layer_norm": "layer_norm", "kernel_scale_final": "final_hidden_gain", "soft_target_update_rate": "target_update_rate",
     "temperature_init": "initial_temperature", "cql_alpha": "conservative_weight", "cql_n_actions": "sampled_actions",
     "cql_max_target_backup": "max_target_backup", "cql_importance_sample": "importance_sampling", "cql_temp": "logsumexp_temperature"]
  }
}
