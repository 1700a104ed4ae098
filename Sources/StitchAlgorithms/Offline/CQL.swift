import StitchData
import StitchNN
import StitchTensor
#if canImport(Glibc)
import Glibc
#endif

/// Conservative Q-Learning on SAC (CQL(H) with importance-sampled log-sum-exp).
///
/// Kumar et al., "Conservative Q-Learning for Offline Reinforcement Learning", NeurIPS 2020, arXiv 2006.04779:
/// critic loss = TD error + α·E_s[log Σ_a exp Q(s, a) − E_{a~D} Q(s, a)] (eq. 4, CQL(H)), the log-sum-exp
/// estimated by importance sampling over N uniform actions (density 0.5^|A|), N policy actions at s and N policy
/// actions at s' (all evaluated at s), each corrected by its log-density (appendix F; CORL `cql.py`
/// `_q_loss`). Optional Lagrange form (eq. 30) adapts α to keep the gap at `targetActionGap`.
/// Actor and temperature as SAC. Defaults: CORL `algorithms/offline/cql.py` (docs/facts.md §2e) and its
/// locomotion YAMLs: α = 10, N = 10, policy lr 3e-5, Q lr 3e-4, 3 hidden layers in Q, automatic entropy, no
/// entropy in the backup, reward scale 1 / bias 0; and, read from cql.py itself: the actor has three hidden
/// layers of 256 (`TanhGaussianPolicy.base_network`); its log-std is `m·raw + c` with learnable scalars m = 1,
/// c = −1 trained with the actor (`log_std_multiplier`, `log_std_offset`), clamped to [−20, 2]; the temperature's
/// Adam uses the policy learning rate (`alpha_optimizer`, lr = policy_lr); the actor's output layer is
/// Xavier-uniform with gain 1e-2 and zero bias, its hidden layers PyTorch's default (cql.py calls
/// `init_module_weights` on the actor without `orthogonal_init`); the critics are orthogonal with gain √2 and zero
/// biases in hidden layers and gain 1e-2 at the output (`orthogonal_init: true` in every locomotion YAML).
/// CQL-Lagrange as cql.py: α' = clamp(exp(log α'), 0, 1e6) with log α' starting at 1.0 scales the penalty
/// α'·α·(gap − τ), and log α' descends −½·Σᵢ α'·α·(gapᵢ − τ). Two temperatures, two names: T of the
/// log-sum-exp, T·log Σ exp(Q/T) (`logsumexp_temperature`, CORL `cql_temp`), and SAC's entropy temperature α
/// (learned; its Adam rate `temperature_learning_rate`). Differences from the reference: not implemented are the
/// max-target backup, BC warm-up steps, entropy in the backup, reward scale/bias and the clip of the gap (all off
/// or neutral in every CORL config: `make_corl_presets_fixture.py` checks that).
public struct CQL: Algorithm, AlgorithmState {
  public struct Configuration: Codable, Sendable {
    /// α of CQL (conservative weight); with `lagrange` the initial value is learned instead.
    public var conservativeWeight: Float = 10
    /// N, actions sampled per state for each of the three proposal sets.
    public var sampledActions = 10
    /// Temperature T of the conservative log-sum-exp, T·log Σ exp(Q/T) (CORL `cql_temp`; key
    /// `logsumexp_temperature`, formerly `temperature`). Not the entropy temperature α (`temperature_learning_rate`).
    public var logsumexpTemperature: Float = 1
    /// Importance-sampled log-sum-exp (CQL(H) with density corrections); false uses plain log-sum-exp.
    public var importanceSampling = true
    /// Learn α by dual gradient descent so the gap stays at `targetActionGap` (CQL-Lagrange).
    public var lagrange = false
    /// τ_gap of CQL-Lagrange.
    public var targetActionGap: Float = -1
    public var discount: Float = 0.99
    public var targetUpdateRate: Float = 0.005
    public var policyLearningRate: Float = 3e-5
    public var criticLearningRate: Float = 3e-4
    /// Adam learning rate of log α, the SAC entropy temperature (CORL: the policy learning rate).
    public var temperatureLearningRate: Float = 3e-5
    public var actorHiddenSizes = [256, 256, 256]
    public var criticHiddenSizes = [256, 256, 256]
    /// Orthogonal critic weights (gain √2 hidden, 1e-2 output, zero biases) instead of PyTorch's default
    /// hidden layers and a Xavier-uniform output (gain 1e-2).
    public var orthogonalInit = true
    /// Initial values of the learnable log-std scale m and offset c: log σ = m·raw + c.
    public var logStdMultiplier: Float = 1
    public var logStdOffset: Float = -1
    /// Cal-QL (Nakamoto et al. 2023, eq. 5): the Q-values of the policy's proposals (at s and at s', both
    /// evaluated at s) in the log-sum-exp are bounded below by the row's Monte-Carlo return-to-go,
    /// max(Q(s, a~π), G(s)) (CORL `cal_ql.py` `_q_loss`, "Cal-QL: bound Q-values with MC return-to-go"). `calql`
    /// sets it; false is CQL.
    public var calibrated = false
    /// With `calibrated`: keep the calibration in online phases, each online episode bounded by its own
    /// returns-to-go once it ends (the paper's code); false switches it off at the first online step, with
    /// online rows' returns 0 (CORL's `switch_calibration()`).
    public var calibrateOnline = true
  }

  public static let id = "cql"
  public static let summary = "Conservative Q-Learning (Kumar et al. 2020) on SAC, importance-sampled, fixed or Lagrange α"
  public static var defaultConfiguration: Configuration { Configuration() }

  let config: Configuration
  let actionDim: Int
  var actor: Policy
  var critics, targetCritics: CriticEnsemble
  var logTemperature: Tensor
  var logConservative: Tensor
  var actorOptimizer, criticOptimizer, temperatureOptimizer, conservativeOptimizer: Adam
  var noise: RandomStream
  var updates = 0
  /// Whether the calibration acts now: `calibrated`, and not switched off by an online phase (CORL's switch).
  /// Derived from the phase the trainer reports (`PhaseObserver`), so not checkpointed.
  var calibrating: Bool

  public init(configuration: Configuration, task: TaskSpec, rng: RandomStream) {
    config = configuration
    calibrating = configuration.calibrated
    actionDim = task.actionDim
    var initRNG = rng.child(named: "init")
    var network = MLP(inputSize: task.observationDim, hiddenSizes: configuration.actorHiddenSizes, outputSize: 2 * task.actionDim, rng: &initRNG)
    network.output.weight = Initializer.xavierUniform(rows: network.output.outputSize, cols: network.output.inputSize, gain: 1e-2, using: &initRNG)
    network.output.bias = Tensor.zeros([network.output.outputSize])
    actor = Policy(network: network, logStdMultiplier: Tensor([configuration.logStdMultiplier]), logStdOffset: Tensor([configuration.logStdOffset]))
    critics = CriticEnsemble(members: 2, observationDim: task.observationDim, actionDim: task.actionDim,
                             hiddenSizes: configuration.criticHiddenSizes, rng: &initRNG)
    CQL.initializeCritics(&critics, orthogonal: configuration.orthogonalInit, rng: &initRNG)
    targetCritics = critics
    logTemperature = Tensor([0])
    logConservative = Tensor([1])
    actorOptimizer = Adam(learningRate: configuration.policyLearningRate)
    criticOptimizer = Adam(learningRate: configuration.criticLearningRate)
    temperatureOptimizer = Adam(learningRate: configuration.temperatureLearningRate)
    conservativeOptimizer = Adam(learningRate: configuration.criticLearningRate)
    noise = rng.child(named: "noise")
  }

  /// Each row of `x` repeated `n` times: [B, d] → [B·n, d].
  static func repeatRows(_ x: Tensor, _ n: Int) -> Tensor {
    x.gathering(rows: (0..<(x.shape[0] * n)).map { $0 / n })
  }

  /// The random draws of one update, in the order the update takes them from its stream: standard normals for
  /// the actor's sample at s [B, A] and the next action at s' [B, A], uniform actions [B·N, A], standard normals
  /// for the N policy actions at s and at s' [B·N, A] each.
  struct Draws {
    var policy, next, random, current, nextPolicy: Tensor

    init(batch: Int, sampledActions n: Int, actionDim a: Int, using rng: inout RandomStream) {
      policy = Tensor.normal([batch, a], using: &rng)
      next = Tensor.normal([batch, a], using: &rng)
      random = Tensor.uniform([batch * n, a], in: -1...1, using: &rng)
      current = Tensor.normal([batch * n, a], using: &rng)
      nextPolicy = Tensor.normal([batch * n, a], using: &rng)
    }

    init(policy: Tensor, next: Tensor, random: Tensor, current: Tensor, nextPolicy: Tensor) {
      (self.policy, self.next, self.random, self.current, self.nextPolicy) = (policy, next, random, current, nextPolicy)
    }
  }

  public mutating func update(on batch: Batch) throws -> Metrics {
    var stream = noise
    let draws = Draws(batch: batch.size, sampledActions: config.sampledActions, actionDim: actionDim, using: &stream)
    noise = stream
    return try update(on: batch, draws: draws)
  }

  /// The losses of one update and their gradients, all from the parameters before the update's steps (CORL
  /// cql.py `train` computes every loss first, then steps α, the actor and the critics).
  struct Gradients {
    var actorLoss, criticLoss, alpha, penalty: Float
    var actor: Policy
    var logTemperature: Tensor
    var critics: CriticEnsemble
    /// Per critic: log-sum-exp over the proposals minus Q on the data, averaged over the batch.
    var gap: Tensor
    /// CQL-Lagrange: the gradient of log α' (nil with a fixed α).
    var logConservative: Tensor?
    /// Cal-QL: the fractions of the current- and next-state proposals' Q below their bound (nil without it).
    var boundRates: [Float]? = nil
  }

  /// One update with given draws.
  mutating func update(on batch: Batch, draws: Draws) throws -> Metrics {
    updates += 1
    let g = try gradients(on: batch, draws: draws)
    let (actorLoss, criticLoss, alpha, penaltyValue, gapValue, weight) = (g.actorLoss, g.criticLoss, g.alpha, g.penalty, g.gap, lagrangeWeight)
    actorOptimizer.update(&actor, along: g.actor)
    temperatureOptimizer.update(&logTemperature, along: g.logTemperature)
    criticOptimizer.update(&self.critics, along: g.critics)
    var metrics: Metrics = ["critic_loss": Double(criticLoss), "actor_loss": Double(actorLoss), "alpha": Double(alpha),
                            "cql_penalty": Double(penaltyValue), "cql_gap": Double(gapValue.mean().scalar)]
    if let rates = g.boundRates {
      metrics["calql_bound_rate_current"] = Double(rates[0])
      metrics["calql_bound_rate_next"] = Double(rates[1])
    }
    if let primeGrad = g.logConservative {
      conservativeOptimizer.update(&logConservative, along: primeGrad)
      metrics["cql_alpha"] = Double(weight)
    }
    targetCritics.moveTowards(self.critics, rate: config.targetUpdateRate)
    return metrics
  }

  /// The conservative weight in the critic loss: α, or α'·α with CQL-Lagrange.
  var lagrangeWeight: Float {
    config.lagrange ? logConservative.exp().clamped(min: 0, max: 1e6).scalar * config.conservativeWeight : config.conservativeWeight
  }

  func gradients(on batch: Batch, draws: Draws) throws -> Gradients {
    let b = batch.size, n = config.sampledActions
    // Actor and temperature (SAC).
    let alpha = logTemperature.exp().scalar
    let critics = self.critics
    var logPi = Tensor(0)
    let (actorLoss, actorGrad) = try valueWithGradient(at: actor) { actor in
      let (a, lp) = actor(batch.observations).sampleWithLogProbability(noise: draws.policy)
      logPi = lp.detached()
      return (lp * alpha - critics(batch.observations, a).min(axis: 0)).mean()
    }
    let gap = (logPi + -Float(actionDim)).mean().scalar
    let (_, alphaGrad) = try valueWithGradient(at: logTemperature) { la in -(la * gap).sum() }
    // Critic: TD error plus the conservative penalty.
    let (nextA, _) = actor(batch.nextObservations).sampleWithLogProbability(noise: draws.next)
    let target = batch.rewards.column + (1 - batch.terminals.column) * config.discount * targetCritics(batch.nextObservations, nextA).min(axis: 0)
    let obsRep = CQL.repeatRows(batch.observations, n), nextRep = CQL.repeatRows(batch.nextObservations, n)
    let randomActions = draws.random
    let (currentA, currentLogPi) = actor(obsRep).sampleWithLogProbability(noise: draws.current)
    let (nextPolicyA, nextLogPi) = actor(nextRep).sampleWithLogProbability(noise: draws.nextPolicy)
    let randomDensity = Float(Double(actionDim) * log(0.5))
    let weight = lagrangeWeight
    let (temp, importance) = (config.logsumexpTemperature, config.importanceSampling)
    var penaltyValue: Float = 0
    var gapValue = Tensor(0)
    let bounds = calibrating ? batch.returnsToGo.reshaped([1, b, 1]) : nil
    var boundRates: (current: Float, next: Float) = (0, 0)
    let (criticLoss, criticGrad) = try valueWithGradient(at: critics) { q in
      let qData = q(batch.observations, batch.actions)                                 // [2, B]
      let td = (qData - target).square().mean(axis: 1).sum()
      var qRand = q(obsRep, randomActions).reshaped([2, b, n])
      var qCurrent = q(obsRep, currentA.detached()).reshaped([2, b, n])
      var qNext = q(obsRep, nextPolicyA.detached()).reshaped([2, b, n])
      if let bounds {
        // Cal-QL: max(Q, G) on the policy proposals, before their density corrections (cal_ql.py).
        let g = bounds.scalars, cur = qCurrent.scalars, nxt = qNext.scalars
        let below = { (v: [Float]) in Float((0..<v.count).filter { v[$0] < g[($0 / n) % b] }.count) / Float(v.count) }
        boundRates = (below(cur), below(nxt))
        qCurrent = Tensor.maximum(qCurrent, bounds)
        qNext = Tensor.maximum(qNext, bounds)
      }
      if importance {
        qRand = qRand - randomDensity
        qCurrent = qCurrent - currentLogPi.detached().reshaped([1, b, n])
        qNext = qNext - nextLogPi.detached().reshaped([1, b, n])
      } else {
        qRand = Tensor.concat([qRand, qData.reshaped([2, b, 1])])
      }
      let all = Tensor.concat([qRand, qNext, qCurrent])                                 // [2, B, 3N(+1)]
      let lse = (all / temp).logSumExp(axis: 2) * temp                                  // [2, B]
      let diff = (lse - qData).mean(axis: 1)                                            // [2]
      gapValue = diff.detached()
      let penalty = config.lagrange ? (diff - config.targetActionGap).sum() * weight : diff.sum() * weight
      penaltyValue = penalty.scalar
      return td + penalty
    }
    // CQL-Lagrange: dual ascent on log α', minimising −½·Σᵢ α'·α·(gapᵢ − τ) over the two critics (CORL's
    // alpha_prime_loss, from the same gaps and the α' before its step).
    var primeGrad: Tensor? = nil
    if config.lagrange {
      let g = (gapValue - config.targetActionGap).sum().scalar * 0.5 * config.conservativeWeight
      primeGrad = try valueWithGradient(at: logConservative) { l in -(l.exp().clamped(min: 0, max: 1e6) * g).sum() }.1
    }
    return Gradients(actorLoss: actorLoss, criticLoss: criticLoss, alpha: alpha, penalty: penaltyValue, actor: actorGrad,
                     logTemperature: alphaGrad, critics: criticGrad, gap: gapValue, logConservative: primeGrad,
                     boundRates: bounds == nil ? nil : [boundRates.current, boundRates.next])
  }

  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor {
    let dist = actor(observations)
    return exploring ? dist.sampleWithLogProbability(using: &rng).action : dist.mode
  }

  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) {
    try v.network(&actor, "actor.")
    try v.network(&critics, "critic.")
    try v.network(&targetCritics, "target_critic.")
    try v.tensor(&logTemperature, "log_alpha")
    try v.tensor(&logConservative, "log_cql_alpha")
    try v.optimizer(&actorOptimizer, "actor_optimizer.", of: actor)
    try v.optimizer(&criticOptimizer, "critic_optimizer.", of: critics)
    try v.optimizer(&temperatureOptimizer, "alpha_optimizer.", of: logTemperature)
    // Steps only with CQL-Lagrange; with a fixed α it saves only its step, 0.
    try v.optimizer(&conservativeOptimizer, "cql_alpha_optimizer.", of: logConservative)
    try v.randomStream(&noise, "noise_rng")
    try v.counter(&updates, "updates")
  }
}

extension CQL.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.nonNegative("conservative_weight", conservativeWeight)
    checks.atLeast("sampled_actions", sampledActions, 1)
    checks.positive("logsumexp_temperature", logsumexpTemperature)
    checks.finite("target_action_gap", targetActionGap)
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.learningRates(["policy_learning_rate": policyLearningRate, "critic_learning_rate": criticLearningRate,
                          "temperature_learning_rate": temperatureLearningRate])
    checks.layerSizes("actor_hidden_sizes", actorHiddenSizes)
    checks.layerSizes("critic_hidden_sizes", criticHiddenSizes)
    checks.finite("log_std_multiplier", logStdMultiplier)
    checks.finite("log_std_offset", logStdOffset)
  }
  /// CORL cql.py's `TrainConfig` names.
  public static var referenceNames: [String: String] {
    ["cql_alpha": "conservative_weight", "cql_n_actions": "sampled_actions", "cql_importance_sample": "importance_sampling",
     "cql_lagrange": "lagrange", "cql_target_action_gap": "target_action_gap", "cql_temp": "logsumexp_temperature",
     "soft_target_update_rate": "target_update_rate", "tau": "target_update_rate", "policy_lr": "policy_learning_rate",
     "qf_lr": "critic_learning_rate"]
  }
  /// The log-sum-exp's temperature was `temperature`, which read as the entropy temperature α.
  public static var formerKeys: [String: String] { ["temperature": "logsumexp_temperature"] }
}

extension CQL.Configuration: UsesReturnsToGo {
  public var returnsToGoDiscount: Float? { calibrated ? discount : nil }
  public var returnsToGoOnline: Bool { calibrated && calibrateOnline }
}

extension CQL: PhaseObserver {
  /// CORL's Cal-QL switches the calibration off when fine-tuning starts (`calibrate_online = false`).
  public mutating func phaseChanged(online: Bool) {
    calibrating = config.calibrated && (!online || config.calibrateOnline)
  }
}
