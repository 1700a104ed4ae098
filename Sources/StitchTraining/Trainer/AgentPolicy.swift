import StitchAlgorithms
import StitchData
import StitchEnvironments

import StitchTensor

/// A trained agent as an episode policy for evaluation: environment observations through the run's observation
/// normaliser, the algorithm's deterministic action, mapped back to the environment's action box.
///
/// Memoryless (an algorithm's `act` sees one observation); a policy with memory is another `EpisodePolicy`, and
/// `PolicyEvaluation` treats both alike.
public struct AgentPolicy<A: Algorithm>: EpisodePolicy {
  let agent: SharedValue<A>
  public let normalizer: ObservationNormalizer
  public let scaling: ActionScaling

  public init(_ algorithm: A, normalizer: ObservationNormalizer, scaling: ActionScaling) {
    agent = SharedValue(algorithm)
    self.normalizer = normalizer
    self.scaling = scaling
  }

  public mutating func reset() {}

  /// - Throws: `EnvironmentError.invalidState` when the observation's width is not the normaliser's (a policy
  ///   trained on another task).
  public mutating func act(_ observation: [Double], lastReward: Double) throws -> [Double] {
    guard observation.count == normalizer.mean.count else {
      throw EnvironmentError.invalidState("observation of width \(observation.count) for a policy trained on width \(normalizer.mean.count)")
    }
    var unused = RandomStream(seed: 0)
    let a = try agent.value.checkedAct(Tensor(shape: [1, observation.count], scalars: normalizer(observation)), exploring: false, rng: &unused)
    return scaling.toEnvironment(a.scalars)
  }
}
