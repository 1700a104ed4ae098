import StitchData
import StitchNN
import StitchTensor

/// ReBRAC: TD3+BC revisited with LayerNorm critics, deeper networks, a large batch and separate behaviour
/// penalties on the actor and on the critic target.
///
/// Tarasov et al., "Revisiting the Minimalist Approach to Offline Reinforcement Learning", NeurIPS 2023,
/// arXiv 2305.09836, eqs. 2–3:
/// - actor: maximise E[λ·minᵢ Qᵢ(s, π(s)) − β₁·‖π(s) − a‖²], λ = 1 / mean |Q| (stop-gradient, `normalize_q`);
/// - critic target: y = r + γ(1 − d)·(minᵢ Q'ᵢ(s', a') − β₂·‖a' − a'_data‖²), a' = clip(π'(s') + clip(ε, −c, c), −1, 1),
///   where a'_data is the dataset's action at s' (`Batch.nextActions`).
/// Networks as CORL `algorithms/offline/rebrac.py` (JAX): 3 hidden layers of 256, Dense → ReLU → LayerNorm in the
/// critic (no LayerNorm in the actor by default), hidden weights U(±1/√fan_in) and biases 0.1 ("initialisation as
/// in EDAC"), last layer U(±1e-3) for the actor and U(±3e-3) for the critic. Learning rates 1e-3, batch 1024, no
/// state normalisation (these two are the trainer's `trainingDefaults`). β₁ = `actorPenalty`, β₂ = `criticPenalty`;
/// defaults are CORL's hopper-medium values (0.01, 0.01); the per-dataset values are `CORLPresets`. As CORL, the
/// actor and targets move on the first update of each pair, and the target actor toward the actor from before its
/// step. Differences from the reference: the two critics are two networks where CORL vmaps one `EnsembleCritic`
/// (same values).
public struct ReBRAC: Algorithm, AlgorithmState {
  public struct Configuration: Codable, Sendable {
    /// β₁ (`actor_bc_coef`): weight of ‖π(s) − a‖² in the actor loss.
    public var actorPenalty: Float = 0.01
    /// β₂ (`critic_bc_coef`): weight of ‖a' − a'_data‖² subtracted from the target Q.
    public var criticPenalty: Float = 0.01
    /// Divide the actor's Q term by mean |Q| (`normalize_q`).
    public var normalizeQ = true
    /// γ.
    public var discount: Float = 0.99
    /// τ, Polyak rate of the target networks.
    public var targetUpdateRate: Float = 0.005
    /// σ of the target-policy smoothing noise.
    public var policyNoise: Float = 0.2
    /// c, clip of that noise.
    public var noiseClip: Float = 0.5
    /// Actor and targets update once every `actorDelay` critic updates, on the first of each group (CORL).
    public var actorDelay = 2
    /// Hidden sizes of actor and critics (3 × 256).
    public var hiddenSizes = [256, 256, 256]
    /// LayerNorm after each hidden activation of the actor (CORL `actor_ln`).
    public var actorLayerNorm = false
    /// LayerNorm after each hidden activation of the critics (CORL `critic_ln`).
    public var criticLayerNorm = true
    /// Adam learning rate of the actor.
    public var actorLearningRate: Float = 1e-3
    /// Adam learning rate of the critics.
    public var criticLearningRate: Float = 1e-3
  }

  public static let id = "rebrac"
  public static let summary = "ReBRAC (Tarasov et al. 2023): TD3+BC with LayerNorm critics and actor/critic penalties"
  public var actsDeterministically: Bool { true }
  public static var defaultConfiguration: Configuration { Configuration() }
  public static var trainingDefaults: TrainingDefaults { TrainingDefaults(batchSize: 1024, normalizeObservations: false) }

  let config: Configuration
  var actor, targetActor: ReBRACNetwork
  var critics, targetCritics: [ReBRACNetwork]
  var actorOptimizer, criticOptimizer: Adam
  var noise: RandomStream
  var updates = 0

  public init(configuration: Configuration, task: TaskSpec, rng: RandomStream) {
    config = configuration
    var initRNG = rng.child(named: "init")
    actor = ReBRACNetwork(inputSize: task.observationDim, hiddenSizes: configuration.hiddenSizes, outputSize: task.actionDim,
                          layerNorm: configuration.actorLayerNorm, outputBound: 1e-3, outputActivation: .tanh, rng: &initRNG)
    critics = (0..<2).map { _ in
      ReBRACNetwork(inputSize: task.observationDim + task.actionDim, hiddenSizes: configuration.hiddenSizes, outputSize: 1,
                    layerNorm: configuration.criticLayerNorm, outputBound: 3e-3, outputActivation: .identity, rng: &initRNG)
    }
    targetActor = actor
    targetCritics = critics
    actorOptimizer = Adam(learningRate: configuration.actorLearningRate)
    criticOptimizer = Adam(learningRate: configuration.criticLearningRate)
    noise = rng.child(named: "noise")
  }

  /// Each critic's Q-values `[B]`.
  static func q(_ critics: [ReBRACNetwork], _ observations: Tensor, _ actions: Tensor) -> [Tensor] {
    let input = Tensor.concat([observations, actions])
    return critics.map { $0(input).column }
  }

  /// minᵢ Qᵢ `[B]`.
  static func minQ(_ critics: [ReBRACNetwork], _ observations: Tensor, _ actions: Tensor) -> Tensor {
    minimum(of: q(critics, observations, actions))
  }

  /// The elementwise minimum of the critics' values, in critic order.
  static func minimum(of qs: [Tensor]) -> Tensor { qs.dropFirst().reduce(qs[0]) { Tensor.minimum($0, $1) } }

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
    let nextPenalty = (nextAction - batch.nextActions).square().sum(axis: 1)
    let nextInput = Tensor.concat([batch.nextObservations, nextAction])
    let targets = targetCritics
    let nextQs = try TwoLanes.map(targets.count) { targets[$0](nextInput).column }
    let nextQ = Self.minimum(of: nextQs) - config.criticPenalty * nextPenalty
    let target = batch.rewards.column + (1 - batch.terminals.column) * config.discount * nextQ
    // Σᵢ mean (Qᵢ − y)²; each critic's term and gradient is independent of the other's (`TwoLanes.map`).
    let input = Tensor.concat([batch.observations, batch.actions])
    let current = critics
    let parts = try TwoLanes.map(current.count) { i in
      try valueWithGradient(at: current[i]) { critic in (critic(input).column - target).square().mean() }
    }
    let criticLoss = parts.dropFirst().reduce(parts[0].value) { $0 + $1.value }
    criticOptimizer.update(&critics, along: parts.map(\.gradient))
    var metrics: Metrics = ["critic_loss": Double(criticLoss), "target_penalty": Double(nextPenalty.mean().scalar)]
    // The actor and the targets move on the first update of every `actorDelay` (updates 1, 3, 5, … for 2): CORL's
    // rebrac.py runs its full update where `i % policy_freq == 0` for i = 0, 1, … (TD3+BC's td3_bc.py on the
    // second of each pair instead, as TD3BC.swift does).
    guard (updates - 1) % config.actorDelay == 0 else { return metrics }
    let critics = self.critics
    let (actorLoss, actorGrad) = try valueWithGradient(at: actor) { actor in
      let pi = actor(batch.observations)
      let q = Self.minQ(critics, batch.observations, pi)
      let lambda: Float = config.normalizeQ ? 1 / q.abs().mean().detached().scalar : 1
      let penalty = (pi - batch.actions).square().sum(axis: 1)
      return (config.actorPenalty * penalty - lambda * q).mean()
    }
    // The target actor moves toward the actor from *before* this step, as CORL's `update_actor` does
    // (`optax.incremental_update(actor.params, actor.target_params, tau)` with `actor` the pre-step state); the
    // target critics toward the critics after this update's critic step (`critic` there is `new_critic`).
    let actorBeforeStep = actor
    actorOptimizer.update(&actor, along: actorGrad)
    targetActor.moveTowards(actorBeforeStep, rate: config.targetUpdateRate)
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

/// ReBRAC's MLP: Dense → ReLU → (LayerNorm) per hidden layer, biases initialised to 0.1, last layer U(±bound).
/// (Stitch's `MLP` puts LayerNorm before the activation; ReBRAC's reference puts it after, so it has its own.)
public struct ReBRACNetwork: Layer, Sendable {
  public var hidden: [Linear]
  public var norms: [LayerNorm]
  public var output: Linear
  public let layerNorm: Bool

  public init(inputSize: Int, hiddenSizes: [Int], outputSize: Int, layerNorm: Bool, outputBound: Float,
              outputActivation: Activation, rng: inout RandomStream) {
    var size = inputSize
    hidden = []
    norms = []
    for h in hiddenSizes {
      var layer = Linear(inputSize: size, outputSize: h, activation: .relu, rng: &rng)
      layer.bias = Tensor(repeating: 0.1, shape: [h])
      hidden.append(layer)
      if layerNorm { norms.append(LayerNorm(size: h, epsilon: 1e-6)) }
      size = h
    }
    output = Linear(weight: Tensor.uniform([outputSize, size], in: -outputBound...outputBound, using: &rng),
                    bias: Tensor.uniform([outputSize], in: -outputBound...outputBound, using: &rng),
                    activation: outputActivation)
    self.layerNorm = layerNorm
  }

  public func callAsFunction(_ input: Tensor) -> Tensor {
    var h = input
    for i in hidden.indices {
      h = hidden[i](h)
      if layerNorm { h = norms[i](h) }
    }
    return output(h)
  }

  public mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
    for i in hidden.indices {
      hidden[i].visitParameters(prefix + "hidden.\(i).", visit)
      if layerNorm { norms[i].visitParameters(prefix + "norm.\(i).", visit) }
    }
    output.visitParameters(prefix + "output.", visit)
  }
}

extension ReBRAC.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.nonNegative("actor_penalty", actorPenalty)
    checks.nonNegative("critic_penalty", criticPenalty)
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.targetSmoothing(policyNoise: policyNoise, noiseClip: noiseClip, actorDelay: actorDelay)
    checks.layerSizes("hidden_sizes", hiddenSizes)
    checks.learningRates(["actor_learning_rate": actorLearningRate, "critic_learning_rate": criticLearningRate])
  }
  /// CORL rebrac.py's `Config` names (β₁ = actor_bc_coef, β₂ = critic_bc_coef).
  public static var referenceNames: [String: String] {
    ["actor_bc_coef": "actor_penalty", "critic_bc_coef": "critic_penalty", "gamma": "discount", "tau": "target_update_rate",
     "policy_freq": "actor_delay", "actor_ln": "actor_layer_norm", "critic_ln": "critic_layer_norm"]
  }
}
