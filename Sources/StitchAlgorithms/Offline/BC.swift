import StitchData
import StitchNN
import StitchTensor
/// Behaviour cloning: regress the dataset's actions with a deterministic tanh policy.
///
/// Pomerleau 1991; as CORL's `any_percent_bc.py` (frac 1.0): MLP 256×256 with ReLU and tanh output,
/// loss ‖π(s) − a‖² averaged, Adam 3e-4. Differences from the reference: none known.
public struct BC: Algorithm {
  public struct Configuration: Codable, Sendable {
    /// Hidden layer sizes of the actor.
    public var hiddenSizes = [256, 256]
    /// Adam learning rate.
    public var learningRate: Float = 3e-4
  }

  public static let id = "bc"
  public static let summary = "behaviour cloning (MSE to dataset actions)"
  public static let actsDeterministically = true
  public static var defaultConfiguration: Configuration { Configuration() }

  var actor: MLP
  var optimizer: Adam
  var updates = 0

  public init(configuration: Configuration, task: TaskSpec, rng: RandomStream) {
    var initRNG = rng.child(named: "init")
    actor = MLP(inputSize: task.observationDim, hiddenSizes: configuration.hiddenSizes, outputSize: task.actionDim,
                outputActivation: .tanh, rng: &initRNG)
    optimizer = Adam(learningRate: configuration.learningRate)
  }

  public mutating func update(on batch: Batch) throws -> Metrics {
    updates += 1
    let (loss, grad) = try valueWithGradient(at: actor) { actor in
      Tensor.meanSquaredError(actor(batch.observations), batch.actions)
    }
    optimizer.update(&actor, along: grad)
    return ["actor_loss": Double(loss)]
  }

  public func act(_ observations: Tensor, exploring: Bool, rng: inout RandomStream) -> Tensor { actor(observations) }

  public func store(into c: inout Checkpoint) {
    c.store(actor, as: "actor.")
    c.store(optimizer: optimizer, as: "actor_optimizer.")
    c.metadata["updates"] = String(updates)
  }

  public mutating func restore(from c: Checkpoint) throws {
    try c.restore(&actor, from: "actor.")
    optimizer.prepare(for: actor)
    try c.restore(optimizer: &optimizer, from: "actor_optimizer.")
    updates = try c.counter("updates")
  }
}

extension BC.Configuration: CheckedConfiguration {
  public func check(_ checks: inout ConfigChecks) {
    checks.layerSizes("hidden_sizes", hiddenSizes)
    checks.nonNegative("learning_rate", learningRate)
  }
  /// CORL any_percent_bc.py.
  public static var referenceNames: [String: String] { ["lr": "learning_rate", "hidden_dim": "hidden_sizes"] }
}
