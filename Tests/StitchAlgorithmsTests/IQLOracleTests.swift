import Foundation
import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// Two IQL updates against PyTorch computing CORL iql.py's arithmetic (Fixtures/iql_update_oracle.safetensors,
/// made by scripts/fixtures/make_iql_fixture.py): the same networks and batches give the same value, critic and
/// actor losses and the same parameters after each update (value, critics, Polyak targets, actor under the
/// cosine schedule), for the Gaussian and the deterministic actor. The second update's Adam step depends on the
/// ratio of the two gradients, so gradient magnitudes are checked, not only their signs.
@Suite struct IQLOracleTests {
  @Test(arguments: [false, true]) func twoUpdatesMatchCORLsArithmeticInPyTorch(deterministic: Bool) throws {
    let t = try Oracle.load("iql_update_oracle.safetensors")
    var c = IQL.defaultConfiguration
    c.hiddenSizes = [8, 8]
    c.targetUpdateRate = 0.05
    c.actorLearningRate = 1e-3
    c.valueLearningRate = 2e-3
    c.criticLearningRate = 3e-3
    c.actorScheduleSteps = 4
    c.deterministicActor = deterministic
    var agent = IQL(configuration: c, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    let loaded = Oracle.checkpoint(t)
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
      let m = try agent.update(on: try Oracle.batch(t, k, size: 6))
      for name in ["value_loss", "critic_loss", "actor_loss"] { try Oracle.close(m, name, t, "\(prefix)out\(k).\(name)") }
      let actor = deterministic ? agent.valueAndActor.policy.net.namedParameters : agent.valueAndActor.policy.namedParameters
      try Oracle.compare(t, "\(prefix)after\(k).", [("actor.", actor), ("value.", agent.valueAndActor.value.namedParameters),
                                                     ("critic.", agent.critic.critics.namedParameters),
                                                     ("target_critic.", agent.critic.targetCritics.namedParameters)])
    }
  }
}
