import StitchData
import StitchNN

import StitchTensor

/// EDAC: SAC with N critics and a penalty on the similarity of their action gradients.
///
/// An, Moon, Kim & Song, "Uncertainty-Based Offline Reinforcement Learning with Diversified Q-Ensemble",
/// NeurIPS 2021, arXiv 2110.01548: SAC-N's losses (`EnsembleSAC`) with the critic loss plus η·L_div,
/// L_div = 1/(N − 1)·E_s Σ_{i≠j} ⟨∇ₐQᵢ, ∇ₐQⱼ⟩/(‖∇ₐQᵢ‖‖∇ₐQⱼ‖) (eq. 4, cosine similarity of the members' action
/// gradients at the data's (s, a)); Σ_{i≠j} ĝᵢ·ĝⱼ is computed as ‖Σᵢ ĝᵢ‖² − Σᵢ‖ĝᵢ‖², and the gradients are
/// normalised by ‖∇ₐQᵢ‖ + 1e-10 as CORL's `edac.py` (`_critic_diversity_loss`). Defaults: CORL
/// `algorithms/offline/edac.py` (N = 10, η = 1, lrs 3e-4, τ 5e-3, γ 0.99, 3 × 256; per-dataset N and η in
/// docs/facts.md §2e, e.g. hopper N = 50). No state normalisation (CORL). Differences from the reference: the action
/// gradients ∇ₐQᵢ are built from tape ops (the ReLU network's backward pass written out: masks of the
/// pre-activations, products with the weights) instead of `torch.autograd.grad(create_graph=True)`, so their own
/// gradient with respect to the weights (EDAC's second-order term) comes from ordinary reverse mode; the ReLU
/// masks are constants, as in PyTorch's double backward.
public struct EDAC: Algorithm, AlgorithmState {
  public struct Configuration: Codable, Sendable {
    /// N, number of critics.
    public var critics = 10
    /// η, weight of the diversity loss.
    public var eta: Float = 1.0
    public var discount: Float = 0.99
    public var targetUpdateRate: Float = 0.005
    public var actorLearningRate: Float = 3e-4
    public var criticLearningRate: Float = 3e-4
    public var temperatureLearningRate: Float = 3e-4
    public var hiddenSizes = [256, 256, 256]
  }

  public static let id = "edac"
  public static let summary = "EDAC (An et al. 2021): SAC with N critics and an ensemble-diversity penalty"
  public static var defaultConfiguration: Configuration { Configuration() }
  public static var trainingDefaults: TrainingDefaults { TrainingDefaults(batchSize: 256, normalizeObservations: false) }

  var core: EnsembleSAC
  var updates = 0

  public init(configuration c: Configuration, task: TaskSpec, rng: RandomStream) {
    core = EnsembleSAC(.init(members: c.critics, eta: c.eta, discount: c.discount, targetUpdateRate: c.targetUpdateRate,
                             actorLearningRate: c.actorLearningRate, criticLearningRate: c.criticLearningRate,
                             temperatureLearningRate: c.temperatureLearningRate, hiddenSizes: c.hiddenSizes,
                             diversity: { EDAC.diversity($0, $1, $2) }), task: task, rng: rng)
  }

  public mutating func update(on batch: Batch) throws -> Metrics { updates += 1; return try core.update(on: batch) }
  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor { core.act(observations, exploring: exploring, rng: &rng) }
  public mutating func visitState<V: StateVisitor>(_ v: inout V) throws(V.Failure) {
    try core.visitState(&v)
    try v.counter(&updates, "updates")
  }
}

extension EDAC {
  /// ∇ₐQᵢ(s, a) for every member, `[N, B, A]`, differentiable with respect to the critics' weights.
  static func actionGradients(_ critics: EnsembleMLP, _ s: Tensor, _ a: Tensor) -> Tensor {
    let n = critics.members, b = s.shape[0]
    var h = Tensor.zeros([n, b, s.shape[1] + a.shape[1]]) + Tensor.concat([s, a])
    var masks: [Tensor] = []
    for layer in critics.layers.dropLast() {
      let z = Tensor.linear(h, weight: layer.weight, bias: layer.bias, activation: .identity)
      let mask = Tensor(shape: z.shape, scalars: z.detached().scalars.map { $0 > 0 ? 1 : 0 })
      masks.append(mask)
      h = z * mask
    }
    // dQ/dh_last = w_out broadcast over the batch: [N, B, 1] × [N, 1, H].
    var g = Tensor.matmul(Tensor.ones([n, b, 1]), critics.layers[critics.layers.count - 1].weight)
    for i in stride(from: masks.count - 1, through: 0, by: -1) {
      g = Tensor.matmul(g * masks[i], critics.layers[i].weight)
    }
    let inputWidth = g.shape[2]
    return g.slice(lastAxis: (inputWidth - a.shape[1])..<inputWidth)
  }

  /// EDAC's diversity loss.
  static func diversity(_ critics: EnsembleMLP, _ s: Tensor, _ a: Tensor) -> Tensor {
    let g = Self.actionGradients(critics, s, a)                               // [N, B, A]
    let norm = g.square().sum(axis: 2, keepingDimension: true).sqrt() + 1e-10
    let unit = g / norm
    let total = unit.sum(axis: 0)                                        // [B, A]
    let pairs = total.square().sum(axis: 1) - unit.square().sum(axis: 2).sum(axis: 0)  // [B]
    return pairs.mean() / Float(critics.members - 1)
  }
}

extension EDAC.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.atLeast("critics", critics, 2)
    checks.nonNegative("eta", eta)
    checks.bootstrapTarget(discount: discount, targetUpdateRate: targetUpdateRate)
    checks.learningRates(["actor_learning_rate": actorLearningRate, "critic_learning_rate": criticLearningRate,
                          "temperature_learning_rate": temperatureLearningRate])
    checks.layerSizes("hidden_sizes", hiddenSizes)
  }
  /// CORL edac.py's `TrainConfig` names.
  public static var referenceNames: [String: String] {
    ["num_critics": "critics", "gamma": "discount", "tau": "target_update_rate", "alpha_learning_rate": "temperature_learning_rate"]
  }
}
