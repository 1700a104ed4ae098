/// Implicit Q-Learning: in-sample value learning by expectile regression, then advantage-weighted regression.
///
/// Kostrikov, Nair & Levine, "Offline Reinforcement Learning with Implicit Q-Learning", ICLR 2022,
/// arXiv 2110.06169: value loss L_V = E[L₂^τ(min Q̂(s,a) − V(s))] (eq. 5, expectile τ), Q loss
/// L_Q = E[(r + γ(1 − d)V(s') − Q(s,a))²] (eq. 6), policy loss −E[exp(β(Q̂ − V))·log π(a|s)] (eq. 7) with the
/// exponent clipped at 100 (CORL's EXP_ADV_MAX). Defaults and update order from CORL `algorithms/offline/iql.py`
/// (FACTS.md §2e): β = 3, τ = 0.7, target rate 0.005, Adam 3e-4, Gaussian actor with tanh mean and a
/// state-independent log σ clamped to [−20, 2], cosine actor-LR schedule over the run. Differences from the
/// reference: the twin Q-networks are one ensemble (same math).
public struct IQL: Algorithm {
  public struct Configuration: Codable, Sendable {
    /// β, inverse temperature of the advantage weights.
    public var temperature: Float = 3.0
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
    /// Steps of the cosine actor-LR schedule (the run length; 1M in CORL).
    public var actorScheduleSteps = 1_000_000
  }

  public static let id = "iql"
  public static let summary = "Implicit Q-Learning (Kostrikov et al. 2022): expectile values + advantage-weighted actor"
  public static var defaultConfiguration: Configuration { Configuration() }

  let config: Configuration
  var actor: MLP
  var logStd: Tensor
  var critics, targetCritics: CriticEnsemble
  var value: MLP
  var actorOptimizer, criticOptimizer, valueOptimizer: Adam
  var updates = 0

  struct Policy: ParameterGroup {
    var net: MLP
    var logStd: Tensor
    mutating func visitParameters(_ prefix: String, _ visit: (String, inout Tensor) -> Void) {
      net.visitParameters(prefix, visit)
      visit(prefix + "log_std", &logStd)
    }
  }

  public init(configuration: Configuration, task: TaskSpec, rng: RandomStream) {
    config = configuration
    var initRNG = rng.child(named: "init")
    actor = MLP(inputSize: task.observationDim, hiddenSizes: configuration.hiddenSizes, outputSize: task.actionDim,
                outputActivation: .tanh, rng: &initRNG)
    logStd = Tensor.zeros([task.actionDim])
    critics = CriticEnsemble(members: 2, observationDim: task.observationDim, actionDim: task.actionDim,
                             hiddenSizes: configuration.hiddenSizes, rng: &initRNG)
    targetCritics = critics
    value = MLP(inputSize: task.observationDim, hiddenSizes: configuration.hiddenSizes, outputSize: 1, rng: &initRNG)
    actorOptimizer = Adam(learningRate: configuration.actorLearningRate)
    criticOptimizer = Adam(learningRate: configuration.criticLearningRate)
    valueOptimizer = Adam(learningRate: configuration.valueLearningRate)
  }

  public mutating func update(on batch: Batch) throws -> Metrics {
    let targetQ = targetCritics(batch.observations, batch.actions).min(axis: 0)
    // Value: expectile regression towards the target critics' minimum.
    let (valueLoss, valueGrad) = try valueWithGradient(at: value) { v in
      Tensor.expectileLoss(v(batch.observations).column, targetQ, expectile: config.expectile)
    }
    valueOptimizer.update(&value, along: valueGrad)
    let v = value(batch.observations).column
    let advantage = targetQ - v
    // Q: regression to r + γ(1 − d)V(s'), averaged over the two critics.
    let nextV = value(batch.nextObservations).column
    let target = batch.rewards.column + (1 - batch.terminals.column) * config.discount * nextV
    let (criticLoss, criticGrad) = try valueWithGradient(at: critics) { q in
      (q(batch.observations, batch.actions) - target).square().mean(axis: 1).mean()
    }
    criticOptimizer.update(&critics, along: criticGrad)
    targetCritics.moveTowards(critics, rate: config.targetUpdateRate)
    // Policy: advantage-weighted regression.
    let weights = (advantage * config.temperature).exp().clamped(min: -.infinity, max: config.maxAdvantageWeight)
    let policy = Policy(net: actor, logStd: logStd)
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
    actorOptimizer.learningRate = LearningRateSchedule.cosine(steps: config.actorScheduleSteps, minimum: 0)
      .rate(base: config.actorLearningRate, at: updates)
    var updated = policy
    actorOptimizer.update(&updated, along: actorGrad)
    actor = updated.net
    logStd = updated.logStd
    updates += 1
    return ["value_loss": Double(valueLoss), "critic_loss": Double(criticLoss), "actor_loss": Double(actorLoss),
            "advantage_mean": Double(advantage.mean().scalar)]
  }

  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor {
    let mean = actor(observations)
    guard exploring, !config.deterministicActor else { return mean }
    let std = logStd.clamped(min: -20, max: 2).exp().reshaped([1, -1])
    return (mean + Tensor.normal(mean.shape, using: &rng) * std).clamped(min: -1, max: 1)
  }

  public func store(into c: inout Checkpoint) {
    c.store(Policy(net: actor, logStd: logStd), as: "actor.")
    c.store(critics, as: "critic.")
    c.store(targetCritics, as: "target_critic.")
    c.store(value, as: "value.")
    c.store(optimizer: actorOptimizer, as: "actor_optimizer.")
    c.store(optimizer: criticOptimizer, as: "critic_optimizer.")
    c.store(optimizer: valueOptimizer, as: "value_optimizer.")
    c.metadata["updates"] = String(updates)
  }

  public mutating func restore(from c: Checkpoint) throws {
    var policy = Policy(net: actor, logStd: logStd)
    try c.restore(&policy, from: "actor.")
    (actor, logStd) = (policy.net, policy.logStd)
    try c.restore(&critics, from: "critic.")
    try c.restore(&targetCritics, from: "target_critic.")
    try c.restore(&value, from: "value.")
    actorOptimizer.prepare(for: policy)
    criticOptimizer.prepare(for: critics)
    valueOptimizer.prepare(for: value)
    try c.restore(optimizer: &actorOptimizer, from: "actor_optimizer.")
    try c.restore(optimizer: &criticOptimizer, from: "critic_optimizer.")
    try c.restore(optimizer: &valueOptimizer, from: "value_optimizer.")
    updates = try c.counter("updates")
  }
}
