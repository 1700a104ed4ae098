import Foundation
import StitchData
import StitchNN

import StitchTensor

/// MOBILE, Model-Bellman Inconsistency penalized offLinE policy optimisation (Sun, Zhang, Jia, Ye & Yu, ICML 2023):
/// the base procedure's rollouts, with the reward of every model row penalised by the ensemble's disagreement on
/// its Bellman target. For a model row (s, a): each elite e samples `penalty_samples` next states
/// s′ ~ N(s + μₑ(s, a), σₑ²(s, a)), the current stochastic policy acts a′ ~ π(·|s′), and
/// Q̂ₑ = mean over the samples of minⱼ Q′ⱼ(s′, a′) (target critics); the penalty u(s, a) is the standard deviation
/// of Q̂ₑ over the elites (unbiased, as `torch.std`), 0 on the dataset rows. Then one SAC step on
/// y = max(0, r − β·u + γ(1 − d)·minⱼ Q′ⱼ(s′, a′)) with a deterministic backup (no −α log π′): critics, actor,
/// α, Polyak, as OfflineRL-Kit's `MOBILEPolicy.learn` (`offlinerlkit/policy/model_based/mobile.py`,
/// `compute_lcb`, and `EnsembleDynamics.predict_next_obs`). Defaults: `run_mobile.py` (β 1.5, h 1, 10 samples,
/// 2 critics of 2 × 256, actor lr 1e-4 with a cosine schedule over 3000 epochs, critic lr 3e-4, α lr 1e-4 from
/// α = 1 clamped to [0, 1], real ratio 0.05, 50,000 rollouts every 1000 updates, 5 epochs kept). Per-dataset β
/// and h: `--preset` (docs/model-based.md). Differences from the reference: the policy's log-density is the exact
/// tanh correction of `TanhGaussian`; the penalty's Gaussian draws come from the agent's own stream (PyTorch draws
/// the reward dimension too; its value is unused there). With true dynamics the penalty is 0 (one simulator
/// outcome per (s, a), so no disagreement), as the edge-of-reach paper notes (Sims et al. 2024, App. table p.17).
public struct MOBILE: Algorithm, ModelRolloutAgent {
  public struct Configuration: Codable, Sendable, OfflineRLKitSACConfiguration {
    public var discount: Float = 0.99
    public var targetUpdateRate: Float = 0.005
    public var actorLearningRate: Float = 1e-4
    public var criticLearningRate: Float = 3e-4
    public var temperatureLearningRate: Float = 1e-4
    public var initialTemperature: Float = 1
    public var autoTemperature = true
    public var hiddenSizes = [256, 256]
    /// Epochs (of `rollout_frequency` updates) of the actor's cosine learning-rate schedule; 0 for none.
    public var actorScheduleEpochs = 3000
    /// β, weight of the Bellman-inconsistency penalty.
    public var penaltyCoefficient: Float = 1.5
    /// Next-state samples per elite in the penalty (`num_samples`).
    public var penaltySamples = 10
    public var dynamicsModel = ""
    public var rolloutLength = 1
    public var rolloutBatchSize = 50_000
    public var rolloutFrequency = 1000
    public var modelRetainEpochs = 5
    public var realRatio = 0.05
    /// "model" (the learned ensemble) or "true" (the simulator; the penalty is then 0).
    public var dynamics = "model"
    /// λ ∈ [0, 1]: rollouts step (1 − λ)·model + λ·simulator.
    public var dynamicsMix = 0.0
  }

  public static let id = "mobile"
  public static let summary = "MOBILE (Sun et al. 2023): model rollouts, reward penalised by the ensemble's Bellman-target disagreement"
  public static var defaultConfiguration: Configuration { Configuration() }
  public static var trainingDefaults: TrainingDefaults { TrainingDefaults(batchSize: 256, normalizeObservations: false) }

  let configuration: Configuration
  var sac: SAC
  public var rollouts: ModelRollouts
  var penaltyNoise: RandomStream

  public init(configuration c: Configuration, task: TaskSpec, rng: RandomStream) {
    configuration = c
    sac = c.makeSAC(task: task, rng: rng.child(named: "sac")) { variant in
      variant.deterministicBackup = true
      variant.targetFloor = 0
    }
    rollouts = ModelRollouts(settings: c.rolloutSettings, penaltyCoefficient: 0, task: task, rng: rng.child(named: "rollouts"))
    penaltyNoise = rng.child(named: "penalty")
  }



  public mutating func update(on batch: Batch) throws -> Metrics {
    var mixed = batch
    let sac = self.sac
    var metrics = try rollouts.mix(into: &mixed, policy: { obs, rng in sac.act(obs, exploring: true, rng: &rng) },
                                   value: { sac.value($0) })
    let real = rollouts.realRows(of: mixed.size)
    if configuration.penaltyCoefficient > 0, let model = rollouts.model, real < mixed.size {
      let u = bellmanInconsistency(model, observations: mixed.observations, actions: mixed.actions, rows: real..<mixed.size)
      var rewards = mixed.rewards.scalars
      var sum = 0.0
      for (k, i) in (real..<mixed.size).enumerated() {
        rewards[i] -= configuration.penaltyCoefficient * u[k] * rollouts.rewardScale
        sum += Double(u[k])
      }
      mixed.rewards = Tensor(shape: mixed.rewards.shape, scalars: rewards)
      metrics["bellman_penalty_mean"] = sum / Double(mixed.size - real)
    }
    let step = try self.sac.update(on: mixed)
    metrics.merge(step) { $1 }
    return metrics
  }

  /// u(s, a) for the given batch rows (`compute_lcb`), with draws from the agent's penalty stream.
  mutating func bellmanInconsistency(_ model: DynamicsEnsemble, observations: Tensor, actions: Tensor, rows: Range<Int>) -> [Float] {
    let od = model.observationDim, ad = model.actionDim
    let obs = observations.scalars, act = actions.scalars
    var rawObs = [Float](), rowActions = [Float]()
    for i in rows {
      rawObs += rollouts.raw(Array(obs[(i * od)..<((i + 1) * od)]))
      rowActions += act[(i * ad)..<((i + 1) * ad)]
    }
    let n = configuration.penaltySamples, k = n * model.elites.count * rows.count
    let stateNoise = Tensor.normal([k * od], using: &penaltyNoise).scalars
    let actionNoise = Tensor.normal([k, ad], using: &penaltyNoise)
    let rollouts = self.rollouts
    return Self.bellmanInconsistency(model: model, rawObservations: rawObs, actions: rowActions, samples: n, stateNoise: stateNoise,
                                     actionNoise: actionNoise, actor: sac.actor, logStdMin: sac.variant.logStdMin,
                                     targetCritics: sac.targetCritics, normalise: { rollouts.normalised($0) })
  }

  /// u(s, a) (`MOBILEPolicy.compute_lcb` with `EnsembleDynamics.sample_next_obss`) for `b` rows of raw
  /// observations and actions, with given draws: `stateNoise` `[n, elites, b, od]` (s′ = s + μₑ + σₑ·ε for each
  /// sample and elite, in that order) and `actionNoise` `[n·elites·b, ad]` (a′ = tanh(μ(s′) + σ(s′)·ε), the
  /// policy's reparameterised sample). Q′ = minⱼ Q′ⱼ(s′, a′) over the target critics, averaged over the samples;
  /// u = the unbiased standard deviation over the elites.
  static func bellmanInconsistency(model: DynamicsEnsemble, rawObservations: [Float], actions: [Float], samples n: Int,
                                   stateNoise: [Float], actionNoise: Tensor, actor: MLP, logStdMin: Float,
                                   targetCritics: CriticEnsemble, normalise: ([Float]) -> [Float]) -> [Float] {
    let od = model.observationDim, ad = model.actionDim, d = model.targetDim
    let b = rawObservations.count / od, elites = model.elites, ne = elites.count
    var input = [Float]()
    input.reserveCapacity(b * (od + ad))
    for r in 0..<b {
      input += rawObservations[(r * od)..<((r + 1) * od)]
      input += actions[(r * ad)..<((r + 1) * ad)]
    }
    let (mean, logVariance) = withoutGradients { model.meanAndLogVariance(model.scale(Tensor(shape: [b, od + ad], scalars: input))) }
    let m = mean.scalars, lv = logVariance.scalars
    var next = [Float](repeating: 0, count: n * ne * b * od)
    var k = 0
    for _ in 0..<n {
      for e in elites {
        for r in 0..<b {
          var s = [Float](repeating: 0, count: od)
          for j in 0..<od {
            let at = (e * b + r) * d + j
            let sigma: Float = Foundation.exp(lv[at]).squareRoot()
            let shift: Float = m[at] + stateNoise[k * od + j] * sigma
            s[j] = rawObservations[r * od + j] + shift
          }
          let x = normalise(s)
          for j in 0..<od { next[k * od + j] = x[j] }
          k += 1
        }
      }
    }
    let states = Tensor(shape: [k, od], scalars: next)
    let q = withoutGradients {
      let a = SAC.policy(actor, states, logStdMin: logStdMin).base.sample(noise: actionNoise).tanh()
      return targetCritics(states, a).min(axis: 0)
    }.scalars
    var u = [Float](repeating: 0, count: b)
    for r in 0..<b {
      var perElite = [Double](repeating: 0, count: ne)
      for s in 0..<n { for e in 0..<ne { perElite[e] += Double(q[(s * ne + e) * b + r]) } }
      perElite = perElite.map { $0 / Double(n) }
      let mu = perElite.reduce(0, +) / Double(ne)
      let variance = perElite.reduce(0) { $0 + ($1 - mu) * ($1 - mu) } / Double(Swift.max(ne - 1, 1))
      u[r] = Float(variance.squareRoot())
    }
    return u
  }

  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor {
    sac.act(observations, exploring: exploring, rng: &rng)
  }

  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) {
    try sac.visitState(&v)
    try v.randomStream(&penaltyNoise, "penalty_rng")
  }

}

extension MOBILE.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checkSAC(&checks)
    checks.nonNegative("penalty_coefficient", penaltyCoefficient)
    checks.atLeast("penalty_samples", penaltySamples, 1)
  }
  /// OfflineRL-Kit `run_mobile.py` argument names.
  public static var referenceNames: [String: String] {
    ["gamma": "discount", "tau": "target_update_rate", "actor_lr": "actor_learning_rate", "critic_lr": "critic_learning_rate",
     "alpha_lr": "temperature_learning_rate", "penalty_coef": "penalty_coefficient", "num_samples": "penalty_samples",
     "rollout_freq": "rollout_frequency", "auto_alpha": "auto_temperature"]
  }
}
