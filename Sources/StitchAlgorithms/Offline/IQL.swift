import StitchData
import StitchNN
import StitchTensor

/// Implicit Q-Learning: in-sample value learning by expectile regression, then advantage-weighted regression.
///
/// Kostrikov, Nair & Levine, "Offline Reinforcement Learning with Implicit Q-Learning", ICLR 2022,
/// arXiv 2110.06169: value loss L_V = E[L₂^τ(min Q̂(s,a) − V(s))] (eq. 5, expectile τ), Q loss
/// L_Q = E[(r + γ(1 − d)V(s') − Q(s,a))²] (eq. 6), policy loss −E[exp(β(Q̂ − V))·log π(a|s)] (eq. 7, β the
/// inverse temperature) with the weight exp(β(Q̂ − V)) clipped at 100 (CORL's EXP_ADV_MAX). Reference code,
/// defaults and update order (V(s') and the advantage from V before its step): CORL `algorithms/offline/iql.py`
/// (docs/facts.md §2e): β = 3, τ = 0.7, target rate 0.005, Adam 3e-4, Gaussian actor with tanh mean and a
/// state-independent log σ clamped to [−20, 2], cosine actor-LR schedule over the run. Differences from the
/// reference: the twin Q-networks are one ensemble (same math).
public struct IQL: Algorithm, AlgorithmState {
  public struct Configuration: Codable, Sendable {
    /// β, the inverse temperature of the advantage weights exp(β·(Q̂ − V)) (CORL `beta`; key `beta`, formerly
    /// `temperature`).
    public var beta: Float = 3.0
    /// τ, the expectile of the value regression.
    public var expectile: Float = 0.7
    /// γ, discount factor.
    public var discount: Float = 0.99
    /// Polyak rate of the target Q-networks.
    public var targetUpdateRate: Float = 0.005
    /// Upper clip of exp(β·advantage).
    public var maxAdvantageWeight: Float = 100
    /// Use a deterministic actor (weighted MSE) instead of the Gaussian's log-likelihood.
    public var deterministicActor = false
    /// Hidden sizes of all networks.
    public var hiddenSizes = [256, 256]
    public var actorLearningRate: Float = 3e-4
    public var criticLearningRate: Float = 3e-4
    public var valueLearningRate: Float = 3e-4
    /// Steps of the cosine actor-LR schedule: CORL's `CosineAnnealingLR(actor_optimizer, max_timesteps)` spans the
    /// run, so `stitch train` sets it to `--steps` (`trainingDefaults.runLengthKeys`); 1M, CORL's run length, for
    /// code that builds the configuration itself.
    public var actorScheduleSteps = 1_000_000
    /// Whether the schedule goes on past `actorScheduleSteps` as PyTorch's `CosineAnnealingLR` does (periodically:
    /// the rate climbs back from 0 to its base over the next `actorScheduleSteps` updates) instead of staying at 0.
    /// CORL's `finetune/iql.py` steps the offline schedule on through the online phase, so `stitch finetune` sets
    /// it for IQL; false (the rate stays at 0) for offline runs, which never pass the end unless extended.
    public var actorSchedulePeriodic = false
  }

  public static var trainingDefaults: TrainingDefaults { TrainingDefaults(runLengthKeys: ["actor_schedule_steps"]) }

  public static let id = "iql"
  public static let summary = "Implicit Q-Learning (Kostrikov et al. 2022): expectile values + advantage-weighted actor"
  public static var defaultConfiguration: Configuration { Configuration() }

  let config: Configuration
  var valueAndActor: ValueAndActor
  var critic: CriticLearner
  var updates = 0

  struct Policy: ParameterGroup {
    var net: MLP
    var logStd: Tensor
    mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
      net.visitParameters(prefix, visit)
      visit(prefix + "log_std", &logStd)
    }
  }

  /// V and the actor with their optimizers: one lane's share of an update.
  struct ValueAndActor {
    var value: MLP
    var policy: Policy
    var valueOptimizer, actorOptimizer: Adam

    /// Expectile regression of V towards min Q̂ (eq. 5), then advantage-weighted regression of the actor (eq. 7)
    /// with the advantage min Q̂(s,a) − V(s) of V before its step (CORL `_update_v` returns it).
    mutating func update(on batch: Batch, targetQ: Tensor, config: Configuration, step: Int) throws
      -> (valueLoss: Float, actorLoss: Float, advantage: Tensor) {
      var v = targetQ
      let (valueLoss, valueGrad) = try valueWithGradient(at: value) { net in
        let out = net(batch.observations).column
        v = out.detached()
        return Tensor.expectileLoss(out, targetQ, expectile: config.expectile)
      }
      valueOptimizer.update(&value, along: valueGrad)
      let advantage = targetQ - v
      let weights = (advantage * config.beta).exp().clamped(min: -.infinity, max: config.maxAdvantageWeight)
      let deterministic = config.deterministicActor
      let (actorLoss, actorGrad) = try valueWithGradient(at: policy) { p in
        let mean = p.net(batch.observations)
        let perSample: Tensor
        if deterministic {
          perSample = (mean - batch.actions).square().sum(axis: 1)
        } else {
          let logStd = p.logStd.clamped(min: -20, max: 2).reshaped([1, -1])
          perSample = -DiagonalGaussian(mean: mean, logStd: logStd + Tensor.zeros(mean.shape)).logProbability(batch.actions)
        }
        return (weights * perSample).mean()
      }
      actorOptimizer.learningRate = (config.actorSchedulePeriodic ? LearningRateSchedule.periodicCosine(steps: config.actorScheduleSteps, minimum: 0)
        : .cosine(steps: config.actorScheduleSteps, minimum: 0)).rate(base: config.actorLearningRate, at: step)
      actorOptimizer.update(&policy, along: actorGrad)
      return (valueLoss, actorLoss, advantage)
    }
  }

  /// The twin critics, their targets and optimizer: the other lane's share.
  struct CriticLearner {
    var critics, targetCritics: CriticEnsemble
    var optimizer: Adam

    /// Q regression to r + γ(1 − d)V(s') averaged over the two critics (eq. 6), then the Polyak target step.
    mutating func update(on batch: Batch, target: Tensor, rate: Float) throws -> Float {
      let (loss, grad) = try valueWithGradient(at: critics) { q in
        (q(batch.observations, batch.actions) - target).square().mean(axis: 1).mean()
      }
      optimizer.update(&critics, along: grad)
      targetCritics.moveTowards(critics, rate: rate)
      return loss
    }
  }

  public init(configuration: Configuration, task: TaskSpec, rng: RandomStream) {
    config = configuration
    var initRNG = rng.child(named: "init")
    let actor = MLP(inputSize: task.observationDim, hiddenSizes: configuration.hiddenSizes, outputSize: task.actionDim,
                    outputActivation: .tanh, rng: &initRNG)
    let critics = CriticEnsemble(members: 2, observationDim: task.observationDim, actionDim: task.actionDim,
                                 hiddenSizes: configuration.hiddenSizes, rng: &initRNG)
    let value = MLP(inputSize: task.observationDim, hiddenSizes: configuration.hiddenSizes, outputSize: 1, rng: &initRNG)
    valueAndActor = ValueAndActor(value: value, policy: Policy(net: actor, logStd: Tensor.zeros([task.actionDim])),
                                  valueOptimizer: Adam(learningRate: configuration.valueLearningRate),
                                  actorOptimizer: Adam(learningRate: configuration.actorLearningRate))
    critic = CriticLearner(critics: critics, targetCritics: critics,
                           optimizer: Adam(learningRate: configuration.criticLearningRate))
  }

  /// One update in CORL's arrangement (`ImplicitQLearning.train`): min Q̂(s, a) and V(s') come from the networks
  /// before any step, so V with the actor (eqs. 5, 7) and the critics (eq. 6) are independent pieces
  /// (`TwoLanes.run`: on two lanes when the thread has two, the same result either way).
  public mutating func update(on batch: Batch) throws -> Metrics {
    // min Q̂(s, a) of the target critics (eqs. 5, 7) and the Q target r + γ(1 − d)V(s') (eq. 6).
    let targetQ = critic.targetCritics(batch.observations, batch.actions).min(axis: 0)
    let nextV = valueAndActor.value(batch.nextObservations).column
    let target = batch.rewards.column + (1 - batch.terminals.column) * config.discount * nextV
    let (config, step) = (self.config, updates)
    // Eq. 5 then eq. 7 (V's expectile step, the actor's weights from V before it), alongside eq. 6 (the critics).
    let (first, criticLoss) = try TwoLanes.run(
      &valueAndActor, { try $0.update(on: batch, targetQ: targetQ, config: config, step: step) },
      alongside: &critic, { try $0.update(on: batch, target: target, rate: config.targetUpdateRate) })
    updates += 1
    return ["value_loss": Double(first.valueLoss), "critic_loss": Double(criticLoss),
            "actor_loss": Double(first.actorLoss), "advantage_mean": Double(first.advantage.mean().scalar)]
  }

  public var actsDeterministically: Bool { config.deterministicActor }

  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor {
    let mean = valueAndActor.policy.net(observations)
    guard exploring, !config.deterministicActor else { return mean }
    let std = valueAndActor.policy.logStd.clamped(min: -20, max: 2).exp().reshaped([1, -1])
    return (mean + Tensor.normal(mean.shape, using: &rng) * std).clamped(min: -1, max: 1)
  }

  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) {
    try v.network(&valueAndActor.policy, "actor.")
    try v.network(&critic.critics, "critic.")
    try v.network(&critic.targetCritics, "target_critic.")
    try v.network(&valueAndActor.value, "value.")
    try v.optimizer(&valueAndActor.actorOptimizer, "actor_optimizer.", of: valueAndActor.policy)
    try v.optimizer(&critic.optimizer, "critic_optimizer.", of: critic.critics)
    try v.optimizer(&valueAndActor.valueOptimizer, "value_optimizer.", of: valueAndActor.value)
    try v.counter(&updates, "updates")
  }
}

extension IQL.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.nonNegative("beta", beta)
    checks.openUnitInterval("expectile", expectile)
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.positive("max_advantage_weight", maxAdvantageWeight)
    checks.layerSizes("hidden_sizes", hiddenSizes)
    checks.learningRates(["actor_learning_rate": actorLearningRate, "critic_learning_rate": criticLearningRate,
                          "value_learning_rate": valueLearningRate])
    checks.atLeast("actor_schedule_steps", actorScheduleSteps, 1)
  }
  /// CORL iql.py's `TrainConfig` names (β, the expectile τ, Polyak τ).
  public static var referenceNames: [String: String] {
    ["iql_tau": "expectile", "tau": "target_update_rate", "iql_deterministic": "deterministic_actor",
     "actor_lr": "actor_learning_rate", "qf_lr": "critic_learning_rate", "vf_lr": "value_learning_rate",
     "exp_adv_max": "max_advantage_weight"]
  }
  /// β was `temperature` until it was named for what it is, an inverse temperature.
  public static var formerKeys: [String: String] { ["temperature": "beta"] }
}
