import Foundation
import StitchData
import StitchNN

import StitchTensor

/// What distinguishes the SAC-based model-based agents (MBPO's base procedure, MOPO): their id, summary and
/// reward penalty.
public protocol ModelBasedSACRecipe: Sendable {
  static var id: String { get }
  static var summary: String { get }
  /// λ of r − λ·u(s, a) by default.
  static var defaultPenalty: Float { get }
  /// Whether λ may be set (MBPO has no penalty).
  static var hasPenalty: Bool { get }
  static var defaultRolloutLength: Int { get }
}

/// SAC on a mix of dataset and model rows (OfflineRL-Kit `MOPOPolicy` and `MBPolicyTrainer`): before every
/// `rollout_frequency`-th update a rollout epoch fills the model buffer (`ModelRollouts`); each update's batch is
/// ⌊real_ratio·B⌋ dataset rows followed by model rows, and SAC steps on it as OfflineRL-Kit's `SACPolicy.learn`:
/// the critics on r + γ(1 − d)(min Q′(s′, a′) − α log π(a′|s′)), then the actor with the stepped critics, then α
/// (−log α·(log π + H̄), H̄ = −dim(A), α = min(exp log α, 1)), then the Polyak step (`SAC` with
/// OfflineRL-Kit's `Variant`). Defaults: `run_mopo.py` (actor lr 1e-4 with a cosine schedule over 3000 epochs,
/// critic lr 3e-4, α lr 1e-4 from α = 1, 2 × 256 ReLU, γ 0.99, τ 0.005, batch 256, real ratio 0.05, rollouts of
/// 50,000 every 1000 updates, buffer of 5 epochs). No state normalisation (OfflineRL-Kit trains on raw states).
/// Differences from the reference: the policy's log-density uses the exact tanh correction of `TanhGaussian`
/// (OfflineRL-Kit: log(1 − a² + 1e-6)); the two critics share one Adam (per-parameter, so the same steps).
public struct ModelBasedSAC<Recipe: ModelBasedSACRecipe>: Algorithm, ModelRolloutAgent {
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
    /// λ, weight of the reward penalty (MOPO's uncertainty u(s, a) = maxᵢ ‖σᵢ(s, a)‖₂).
    public var penaltyCoefficient: Float = Recipe.defaultPenalty
    public var dynamicsModel = ""
    public var rolloutLength = Recipe.defaultRolloutLength
    public var rolloutBatchSize = 50_000
    public var rolloutFrequency = 1000
    public var modelRetainEpochs = 5
    public var realRatio = 0.05
    /// "model" (the learned ensemble of `dynamics_model`) or "true" (the simulator; docs/model-based.md).
    public var dynamics = "model"
    /// λ ∈ [0, 1]: rollouts step (1 − λ)·model + λ·simulator (the edge-of-reach paper's Figure 1).
    public var dynamicsMix = 0.0
  }

  public static var id: String { Recipe.id }
  public static var summary: String { Recipe.summary }
  public static var defaultConfiguration: Configuration { Configuration() }
  public static var trainingDefaults: TrainingDefaults { TrainingDefaults(batchSize: 256, normalizeObservations: false) }

  var sac: SAC
  public var rollouts: ModelRollouts

  public init(configuration c: Configuration, task: TaskSpec, rng: RandomStream) {
    sac = c.makeSAC(task: task, rng: rng.child(named: "sac"))
    rollouts = ModelRollouts(settings: c.rolloutSettings, penaltyCoefficient: Recipe.hasPenalty ? c.penaltyCoefficient : 0,
                             task: task, rng: rng.child(named: "rollouts"))
  }


  public mutating func update(on batch: Batch) throws -> Metrics {
    var mixed = batch
    let sac = self.sac
    let rolloutMetrics = try rollouts.mix(into: &mixed, policy: { obs, rng in sac.act(obs, exploring: true, rng: &rng) },
                                          value: { sac.value($0) })
    var metrics = try self.sac.update(on: mixed)
    metrics.merge(rolloutMetrics) { $1 }
    return metrics
  }


  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor {
    sac.act(observations, exploring: exploring, rng: &rng)
  }

  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) { try sac.visitState(&v) }

}

extension ModelBasedSAC.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checkSAC(&checks)
    checks.nonNegative("penalty_coefficient", penaltyCoefficient)
    if !Recipe.hasPenalty {
      checks.require(penaltyCoefficient == 0, "penalty_coefficient", penaltyCoefficient, "must be 0: \(Recipe.id) is the unpenalised base procedure (use mopo for a penalty)")
    }
  }
  /// OfflineRL-Kit `run_mopo.py` argument names.
  public static var referenceNames: [String: String] {
    ["gamma": "discount", "tau": "target_update_rate", "actor_lr": "actor_learning_rate", "critic_lr": "critic_learning_rate",
     "alpha_lr": "temperature_learning_rate", "penalty_coef": "penalty_coefficient", "rollout_freq": "rollout_frequency",
     "auto_alpha": "auto_temperature"]
  }
}
