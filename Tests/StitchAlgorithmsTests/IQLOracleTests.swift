import Foundation
import Testing
@testable import StitchAlgorithms

/// Two IQL updates against PyTorch computing CORL iql.py's arithmetic (Fixtures/iql_update_oracle.safetensors,
/// made by scripts/fixtures/make_iql_fixture.py): the same networks and batches give the same value, critic and
/// actor losses and the same parameters after each update (value, critics, Polyak targets, actor under the
/// cosine schedule), for the Gaussian and the deterministic actor. The second update's Adam step depends on the
/// ratio of the two gradients, so gradient magnitudes are checked, not only their signs.
@Suite struct IQLOracleTests {
  @Test(arguments: [false, true]) func twoUpdatesMatchCORLsArithmeticInPyTorch(deterministic: Bool) throws {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/iql_update_oracle.safetensors", withExtension: nil))
    let (t, _) = try SafeTensors.read(url)
    func tensor(_ name: String) throws -> Tensor { try #require(t[name], "fixture lacks \(name)") }
    var c = IQL.defaultConfiguration
    c.hiddenSizes = [8, 8]
    c.targetUpdateRate = 0.05
    c.actorLearningRate = 1e-3
    c.valueLearningRate = 2e-3
    c.criticLearningRate = 3e-3
    c.actorScheduleSteps = 4
    c.deterministicActor = deterministic
    var agent = IQL(configuration: c, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    var loaded = Checkpoint()
    loaded.tensors = t
    if deterministic {
      try loaded.restore(&agent.valueAndActor.policy.net, from: "actor.")
    } else {
      try loaded.restore(&agent.valueAndActor.policy, from: "actor.")
    }
    try loaded.restore(&agent.valueAndActor.value, from: "value.")
    try loaded.restore(&agent.critic.critics, from: "critic.")
    try loaded.restore(&agent.critic.targetCritics, from: "target_critic.")
    let prefix = deterministic ? "det." : ""
    for k in 1...2 {
      var batch = Batch(size: 6, observationDim: 3, actionDim: 2)
      batch.observations = try tensor("batch\(k).observations")
      batch.actions = try tensor("batch\(k).actions")
      batch.rewards = try tensor("batch\(k).rewards").reshaped([6, 1])
      batch.nextObservations = try tensor("batch\(k).next_observations")
      batch.terminals = try tensor("batch\(k).terminals").reshaped([6, 1])
      let m = try agent.update(on: batch)
      for name in ["value_loss", "critic_loss", "actor_loss"] {
        CQLOracleTests.close(Tensor([Float(m[name] ?? .nan)]), try tensor("\(prefix)out\(k).\(name)"), "update \(k) \(name)")
      }
      let after = "\(prefix)after\(k)."
      let actorParameters = deterministic ? agent.valueAndActor.policy.net.namedParameters : agent.valueAndActor.policy.namedParameters
      for (name, p) in actorParameters { CQLOracleTests.close(p, try tensor(after + "actor." + name), "update \(k) actor.\(name)") }
      for (name, p) in agent.valueAndActor.value.namedParameters { CQLOracleTests.close(p, try tensor(after + "value." + name), "update \(k) value.\(name)") }
      for (name, p) in agent.critic.critics.namedParameters { CQLOracleTests.close(p, try tensor(after + "critic." + name), "update \(k) critic.\(name)") }
      for (name, p) in agent.critic.targetCritics.namedParameters {
        CQLOracleTests.close(p, try tensor(after + "target_critic." + name), "update \(k) target_critic.\(name)")
      }
    }
  }
}
