import StitchData
import StitchNN
import StitchTensor

/// TD3+BC: TD3 with a behaviour-cloning term in the actor loss.
///
/// Fujimoto & Gu, "A Minimalist Approach to Offline Reinforcement Learning", NeurIPS 2021, arXiv 2106.06860,
/// eq. 3: π = argmax E[λ Q(s, π(s)) − (π(s) − a)²] with λ = α / (1/N Σ |Q(sᵢ, aᵢ)|), α = 2.5. Critic: TD3's
/// clipped double-Q target with target-policy smoothing (Fujimoto et al. 2018, arXiv 1802.09477, eq. 15):
/// y = r + γ(1 − d) minᵢ Q'ᵢ(s', clip(π'(s') + clip(ε, −c, c), −1, 1)), ε ~ N(0, σ²).
/// Reference code and defaults: CORL `algorithms/offline/td3_bc.py` (docs/facts.md §2e); the actor and targets move on
/// the second update of each pair (`total_it % policy_freq == 0`). State normalisation is done by the trainer
/// (on by default, eps 1e-3, as CORL). Differences from the reference: the two critics are evaluated as one
/// ensemble (same math, one pass), and the actor reads Q₁ as a detached copy (`CriticEnsemble.members`).
public struct TD3BC: Algorithm, AlgorithmState {
  public struct Configuration: Codable, Sendable {
    /// α: weight of the Q term, normalised by mean |Q|.
    public var qWeight: Float = 2.5
    /// γ, discount factor.
    public var discount: Float = 0.99
    /// τ, Polyak rate of the target networks.
    public var targetUpdateRate: Float = 0.005
    /// σ, standard deviation of the target-policy smoothing noise (in normalised action units).
    public var policyNoise: Float = 0.2
    /// c, clip of that noise.
    public var noiseClip: Float = 0.5
    /// The actor and targets are updated once every `actorDelay` critic updates.
    public var actorDelay = 2
    /// Hidden sizes of actor and critics.
    public var hiddenSizes = [256, 256]
    /// Adam learning rate of actor and critics.
    public var learningRate: Float = 3e-4
  }

  public static let id = "td3bc"
  public static let summary = "TD3+BC (Fujimoto & Gu 2021): TD3 with a behaviour-cloning actor term"
  public var actsDeterministically: Bool { true }
  public static var defaultConfiguration: Configuration { Configuration() }

  let config: Configuration
  var actor, targetActor: MLP
  var critics, targetCritics: CriticEnsemble
  var actorOptimizer, criticOptimizer: Adam
  var noise: RandomStream
  var updates = 0

  public init(configuration: Configuration, task: TaskSpec, rng: RandomStream) {
    config = configuration
    var initRNG = rng.child(named: "init")
    actor = MLP(inputSize: task.observationDim, hiddenSizes: configuration.hiddenSizes, outputSize: task.actionDim,
                outputActivation: .tanh, rng: &initRNG)
    critics = CriticEnsemble(members: 2, observationDim: task.observationDim, actionDim: task.actionDim,
                             hiddenSizes: configuration.hiddenSizes, rng: &initRNG)
    targetActor = actor
    targetCritics = critics
    actorOptimizer = Adam(learningRate: configuration.learningRate)
    criticOptimizer = Adam(learningRate: configuration.learningRate)
    noise = rng.child(named: "noise")
  }

  public mutating func update(on batch: Batch) throws -> Metrics {
    try update(on: batch, smoothingNoise: Tensor.normal(batch.actions.shape, using: &noise))
  }

  /// One update with a given standard-normal draw ε [B, A] for the target-policy smoothing noise
  /// clip(σε, −c, c) (what `update(on:)` draws from its stream; a test feeds another library's draws).
  mutating func update(on batch: Batch, smoothingNoise: Tensor) throws -> Metrics {
    updates += 1
    let smoothing = (smoothingNoise * config.policyNoise)
      .clamped(min: -config.noiseClip, max: config.noiseClip)
    let nextAction = (targetActor(batch.nextObservations) + smoothing).clamped(min: -1, max: 1)
    let nextQ = targetCritics(batch.nextObservations, nextAction).min(axis: 0)
    let target = batch.rewards.column + (1 - batch.terminals.column) * config.discount * nextQ
    let (criticLoss, criticGrad) = try valueWithGradient(at: critics) { critics in
      // Σ over the two critics of the mean squared TD error, as TD3: mse(Q1, y) + mse(Q2, y).
      (critics(batch.observations, batch.actions) - target).square().mean(axis: 1).sum()
    }
    criticOptimizer.update(&critics, along: criticGrad)
    var metrics: Metrics = ["critic_loss": Double(criticLoss)]
    guard updates % config.actorDelay == 0 else { return metrics }
    let firstCritic = critics.members(0..<1)  // the actor maximises Q₁ (TD3: Fujimoto et al. 2018, Algorithm 1)
    let (actorLoss, actorGrad) = try valueWithGradient(at: actor) { actor in
      let pi = actor(batch.observations)
      let q = firstCritic(batch.observations, pi).reshaped([-1])
      let lambda = config.qWeight / q.abs().mean().detached().scalar
      return -(q.mean() * lambda) + Tensor.meanSquaredError(pi, batch.actions)
    }
    actorOptimizer.update(&actor, along: actorGrad)
    targetActor.moveTowards(actor, rate: config.targetUpdateRate)
    targetCritics.moveTowards(self.critics, rate: config.targetUpdateRate)
    metrics["actor_loss"] = Double(actorLoss)
    return metrics
  }

  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor { actor(observations) }

  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) {
    try v.network(&actor, "actor.")
    try v.network(&targetActor, "target_actor.")
    try v.network(&critics, "critic.")
    try v.network(&targetCritics, "target_critic.")
    try v.optimizer(&actorOptimizer, "actor_optimizer.", of: actor)
    try v.optimizer(&criticOptimizer, "critic_optimizer.", of: critics)
    try v.randomStream(&noise, "noise_rng")
    try v.counter(&updates, "updates")
  }
}

extension TD3BC.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.nonNegative("q_weight", qWeight)
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.targetSmoothing(policyNoise: policyNoise, noiseClip: noiseClip, actorDelay: actorDelay)
    checks.layerSizes("hidden_sizes", hiddenSizes)
    checks.nonNegative("learning_rate", learningRate)
  }
  /// CORL td3_bc.py's `TrainConfig` names.
  public static var referenceNames: [String: String] {
    ["alpha": "q_weight", "tau": "target_update_rate", "policy_freq": "actor_delay", "lr": "learning_rate",
     "actor_lr": "learning_rate", "critic_lr": "learning_rate"]
  }
}
