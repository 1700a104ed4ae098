import StitchData
import StitchNN
import StitchTensor
/// Soft Actor-Critic with twin critics and automatic entropy tuning.
///
/// Haarnoja et al., "Soft Actor-Critic Algorithms and Applications", 2018, arXiv 1812.05905: critic target
/// y = r + γ(1 − d)(minᵢ Q'ᵢ(s', a') − α log π(a'|s')), a' ~ π(·|s') (eq. 3 with clipped double Q), actor loss
/// E[α log π(a|s) − minᵢ Qᵢ(s, a)] (eq. 7, reparameterised), temperature loss −α·E[log π(a|s) + H̄] with target
/// entropy H̄ = −dim(A) (eq. 18, §5). tanh-squashed Gaussian policy, log σ clamped to [−20, 2]. Each update steps
/// the critics, then the actor, then α from the actor's own sample, then the targets (the paper's Algorithm 1).
/// Defaults: 256×256 MLPs, Adam 3e-4 for all, batch 256, τ = 0.005, γ = 0.99 (SAC paper Table 1, CORL/d3rlpy).
/// Checked against OfflineRL-Kit's `SACPolicy.learn` (`offlinerlkit/policy/model_free/sac.py`, the SAC under MBPO
/// and MOPO) in PyTorch, with its `Variant` (Tests/StitchAlgorithmsTests/SACOracleTests.swift): the same order
/// (critics, then the actor against the stepped critics, then α from the actor's sample, then Polyak) and, with
/// `guardedLogDensity`, its log-density. Online SAC keeps the exact tanh correction. Differences from
/// OfflineRL-Kit: α is capped at every update including the first (it caps after each α step; equal from α₀ = 1). `referenceNames` are cleanrl
/// `sac_continuous_action.py`'s argument names; differences from cleanrl: the actor and α update every step, not
/// every second step repeated twice.
public struct SAC: Algorithm, AlgorithmState {
  public struct Configuration: Codable, Sendable {
    /// γ, discount factor.
    public var discount: Float = 0.99
    /// τ, Polyak rate of the target critics.
    public var targetUpdateRate: Float = 0.005
    public var actorLearningRate: Float = 3e-4
    public var criticLearningRate: Float = 3e-4
    public var temperatureLearningRate: Float = 3e-4
    /// Initial α (entropy temperature).
    public var initialTemperature: Float = 1.0
    /// Learn α towards the target entropy −dim(A); otherwise keep it fixed.
    public var autoTemperature = true
    /// Hidden sizes of actor and critics.
    public var hiddenSizes = [256, 256]
  }

  public static let id = "sac"
  public static let summary = "Soft Actor-Critic (Haarnoja et al. 2018), online; twin critics, learned temperature"
  public static var defaultConfiguration: Configuration { Configuration() }

  let config: Configuration
  let variant: Variant
  let targetEntropy: Float
  var actor: MLP
  var critics, targetCritics: CriticEnsemble
  var logTemperature: Tensor
  var actorOptimizer, criticOptimizer, temperatureOptimizer: Adam
  var noise: RandomStream
  var updates = 0

  /// What a reference implementation changes in SAC beyond the configuration's keys (OfflineRL-Kit's SAC, under
  /// MBPO and MOPO, `offlinerlkit/policy/model_free/sac.py` and `modules/dist_module.py`): log σ clamped to
  /// [−5, 2] instead of [−20, 2], α = min(exp log α, 1), and a cosine schedule of the actor's learning rate over
  /// `actorScheduleEpochs` epochs of `epochLength` updates (PyTorch `CosineAnnealingLR`, stepped after every epoch).
  /// Derived from the owning algorithm's configuration, so it is not checkpointed.
  public struct Variant: Sendable {
    public var logStdMin: Float = -20
    public var maxTemperature: Float? = nil
    public var actorScheduleEpochs = 0
    public var epochLength = 1000
    /// Drop −α log π′ from the target (OfflineRL-Kit's `deterministic_backup`, which MOBILE sets).
    public var deterministicBackup = false
    /// Clamp the target from below (MOBILE: `torch.clamp(target_q, 0, None)`); nil for none.
    public var targetFloor: Float? = nil
    /// The log-density as OfflineRL-Kit's `TanhNormalWrapper.log_prob` computes it, log N(u) − Σ log(1 − tanh²(u)
    /// + 1e-6), instead of the exact correction: the two differ where actions saturate (|a| → 1), which changes
    /// the entropy estimate, hence α, of a trained policy.
    public var guardedLogDensity = false
    public init() {}
  }

  public init(configuration: Configuration, task: TaskSpec, rng: RandomStream) {
    self.init(configuration: configuration, variant: Variant(), task: task, rng: rng)
  }

  public init(configuration: Configuration, variant: Variant, task: TaskSpec, rng: RandomStream) {
    config = configuration
    self.variant = variant
    targetEntropy = -Float(task.actionDim)
    var initRNG = rng.child(named: "init")
    actor = MLP(inputSize: task.observationDim, hiddenSizes: configuration.hiddenSizes, outputSize: 2 * task.actionDim, rng: &initRNG)
    critics = CriticEnsemble(members: 2, observationDim: task.observationDim, actionDim: task.actionDim,
                             hiddenSizes: configuration.hiddenSizes, rng: &initRNG)
    targetCritics = critics
    logTemperature = Tensor([Float(Foundation_log(Double(configuration.initialTemperature)))])
    actorOptimizer = Adam(learningRate: configuration.actorLearningRate)
    criticOptimizer = Adam(learningRate: configuration.criticLearningRate)
    temperatureOptimizer = Adam(learningRate: configuration.temperatureLearningRate)
    noise = rng.child(named: "noise")
  }

  /// The policy's tanh-Gaussian at `observations`.
  static func policy(_ actor: MLP, _ observations: Tensor, logStdMin: Float = -20) -> TanhGaussian {
    let out = actor(observations)
    let d = out.shape[1] / 2
    return TanhGaussian(mean: out.slice(lastAxis: 0..<d), logStd: out.slice(lastAxis: d..<(2 * d)).clamped(min: logStdMin, max: 2))
  }

  /// A reparameterised action tanh(μ + σε) and its log-density: exact, or OfflineRL-Kit's guarded form.
  static func sample(_ dist: TanhGaussian, noise: Tensor, guarded: Bool) -> (action: Tensor, logProbability: Tensor) {
    guard guarded else { return dist.sampleWithLogProbability(noise: noise) }
    let u = dist.base.sample(noise: noise)
    let a = u.tanh()
    return (a, dist.base.logProbability(u) - (1 - a.square() + 1e-6).log().sum(axis: -1))
  }

  /// The standard normals of one update, in the order it draws them: the next action's at s′, the actor's at s
  /// (each [B, |A|]).
  struct Draws {
    var next, actor: Tensor
  }

  public mutating func update(on batch: Batch) throws -> Metrics {
    let shape = batch.actions.shape
    let next = Tensor.normal(shape, using: &noise)
    let actor = Tensor.normal(shape, using: &noise)
    return try update(on: batch, draws: Draws(next: next, actor: actor))
  }

  /// One update with given draws.
  mutating func update(on batch: Batch, draws: Draws) throws -> Metrics {
    updates += 1
    if variant.actorScheduleEpochs > 0 {
      let epoch = Float((updates - 1) / variant.epochLength)
      actorOptimizer.learningRate = config.actorLearningRate * (1 + Foundation_cos(Float.pi * epoch / Float(variant.actorScheduleEpochs))) / 2
    }
    var alpha = logTemperature.exp().scalar
    if let cap = variant.maxTemperature { alpha = Swift.min(alpha, cap) }
    let logStdMin = variant.logStdMin
    let guarded = variant.guardedLogDensity
    let (nextAction, nextLogProb) = SAC.sample(SAC.policy(actor, batch.nextObservations, logStdMin: logStdMin), noise: draws.next, guarded: guarded)
    var nextQ = targetCritics(batch.nextObservations, nextAction).min(axis: 0)
    if !variant.deterministicBackup { nextQ = nextQ - nextLogProb * alpha }
    var target = batch.rewards.column + (1 - batch.terminals.column) * config.discount * nextQ
    if let floor = variant.targetFloor { target = target.clamped(min: floor, max: .infinity) }
    var predicted = Tensor(0)
    let (criticLoss, criticGrad) = try valueWithGradient(at: critics) { q in
      let qa = q(batch.observations, batch.actions)
      predicted = qa.detached()
      return (qa - target).square().mean(axis: 1).sum()
    }
    criticOptimizer.update(&critics, along: criticGrad)
    let critics = self.critics
    var logProbForAlpha = Tensor(0)
    let (actorLoss, actorGrad) = try valueWithGradient(at: actor) { actor in
      let (a, logProb) = SAC.sample(SAC.policy(actor, batch.observations, logStdMin: logStdMin), noise: draws.actor, guarded: guarded)
      logProbForAlpha = logProb.detached()
      return (logProb * alpha - critics(batch.observations, a).min(axis: 0)).mean()
    }
    actorOptimizer.update(&actor, along: actorGrad)
    var metrics: Metrics = ["critic_loss": Double(criticLoss), "actor_loss": Double(actorLoss), "alpha": Double(alpha),
                            "entropy": Double(-logProbForAlpha.mean().scalar)]
    metrics.merge(QStatistics.of(predicted)) { $1 }
    if config.autoTemperature {
      let entropyGap = (logProbForAlpha + targetEntropy).mean().scalar
      let (alphaLoss, alphaGrad) = try valueWithGradient(at: logTemperature) { logAlpha in -(logAlpha * entropyGap).sum() }
      temperatureOptimizer.update(&logTemperature, along: alphaGrad)
      metrics["alpha_loss"] = Double(alphaLoss)
    }
    targetCritics.moveTowards(self.critics, rate: config.targetUpdateRate)
    return metrics
  }

  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor {
    let dist = SAC.policy(actor, observations, logStdMin: variant.logStdMin)
    return exploring ? dist.sampleWithLogProbability(using: &rng).action : dist.mode
  }

  /// V(s) = minᵢ Qᵢ(s, μ(s)) at the policy's mode, `[B]` (logged at model rollouts' last states).
  public func value(_ observations: Tensor) -> Tensor {
    critics(observations, SAC.policy(actor, observations, logStdMin: variant.logStdMin).mode).min(axis: 0)
  }

  /// The actor network (for exporting behaviour policies).
  public var policyNetwork: MLP { actor }

  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) {
    try v.network(&actor, "actor.")
    try v.network(&critics, "critic.")
    try v.network(&targetCritics, "target_critic.")
    try v.tensor(&logTemperature, "log_alpha")
    try v.optimizer(&actorOptimizer, "actor_optimizer.", of: actor)
    try v.optimizer(&criticOptimizer, "critic_optimizer.", of: critics)
    try v.optimizer(&temperatureOptimizer, "alpha_optimizer.", of: logTemperature)
    try v.randomStream(&noise, "noise_rng")
    try v.counter(&updates, "updates")
  }
}

#if canImport(Glibc)
import Glibc
#endif
@inline(__always) func Foundation_log(_ x: Double) -> Double { log(x) }
@inline(__always) func Foundation_cos(_ x: Float) -> Float { cos(x) }

extension SAC.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.learningRates(["actor_learning_rate": actorLearningRate, "critic_learning_rate": criticLearningRate,
                          "temperature_learning_rate": temperatureLearningRate])
    checks.positive("initial_temperature", initialTemperature)
    checks.layerSizes("hidden_sizes", hiddenSizes)
  }
  /// cleanrl sac_continuous_action.py's argument names.
  public static var referenceNames: [String: String] {
    ["gamma": "discount", "tau": "target_update_rate", "policy_lr": "actor_learning_rate", "q_lr": "critic_learning_rate",
     "autotune": "auto_temperature", "alpha": "initial_temperature"]
  }
}
