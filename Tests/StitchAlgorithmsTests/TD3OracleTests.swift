import Foundation
import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// Four TD3+BC updates against PyTorch computing CORL's td3_bc.py arithmetic (Fixtures/td3bc_update_oracle.safetensors,
/// made by scripts/fixtures/make_td3_fixtures.py), and four ReBRAC updates against CORL's own JAX code, rebrac.py's
/// `update_td3` / `update_td3_no_targets` run by flax and optax (Fixtures/rebrac_update_oracle.safetensors, made by
/// scripts/fixtures/make_rebrac_fixture.py), with the same networks, batches and smoothing-noise draws: the same
/// losses and the same actor, critics and targets after each update, including which update steps the actor
/// (TD3+BC the second of each pair, ReBRAC the first) and which actor the target actor moves toward (TD3+BC the
/// stepped one, ReBRAC the one from before the step).
@Suite struct TD3OracleTests {
  static func losses(_ t: [String: Tensor], _ k: Int, _ m: Metrics) throws {
    try Oracle.close(m, "critic_loss", t, "out\(k).critic_loss")
    #expect((m["actor_loss"] != nil) == (t["out\(k).actor_loss"] != nil), "update \(k): actor stepped in one and not the other")
    if t["out\(k).actor_loss"] != nil, m["actor_loss"] != nil { try Oracle.close(m, "actor_loss", t, "out\(k).actor_loss") }
  }

  @Test func td3bcMatchesCORLsArithmeticInPyTorch() throws {
    let t = try Oracle.load("td3bc_update_oracle.safetensors")
    var c = TD3BC.defaultConfiguration
    c.hiddenSizes = [8, 8]
    c.learningRate = 1e-3
    c.targetUpdateRate = 0.05
    var agent = TD3BC(configuration: c, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    let loaded = Oracle.checkpoint(t)
    try loaded.restore(&agent.actor, from: "actor.")
    try loaded.restore(&agent.targetActor, from: "target_actor.")
    try loaded.restore(&agent.critics, from: "critic.")
    try loaded.restore(&agent.targetCritics, from: "target_critic.")
    for k in 1...4 {
      let m = try agent.update(on: try Oracle.batch(t, k, size: 6), smoothingNoise: try Oracle.tensor(t, "draw\(k)"))
      try Self.losses(t, k, m)
      try Oracle.compare(t, "after\(k).", [("actor.", agent.actor.namedParameters), ("target_actor.", agent.targetActor.namedParameters),
                                           ("critic.", agent.critics.namedParameters), ("target_critic.", agent.targetCritics.namedParameters)])
    }
  }

  @Test func rebracMatchesCORLsJAXCode() throws {
    let t = try Oracle.load("rebrac_update_oracle.safetensors")
    var c = ReBRAC.defaultConfiguration
    c.hiddenSizes = [8, 8, 8]
    c.actorPenalty = 0.1
    c.criticPenalty = 0.05
    c.actorLearningRate = 1e-3
    c.criticLearningRate = 2e-3
    c.targetUpdateRate = 0.05
    c.policyNoise = 0.4
    var agent = ReBRAC(configuration: c, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    let loaded = Oracle.checkpoint(t)
    try loaded.restore(&agent.actor, from: "actor.")
    try loaded.restore(&agent.targetActor, from: "target_actor.")
    try loaded.restore(&agent.critics, from: "critic.")
    try loaded.restore(&agent.targetCritics, from: "target_critic.")
    for k in 1...4 {
      let m = try agent.update(on: try Oracle.batch(t, k, size: 6), smoothingNoise: try Oracle.tensor(t, "draw\(k)"))
      try Self.losses(t, k, m)
      try Oracle.compare(t, "after\(k).", [("actor.", agent.actor.namedParameters), ("target_actor.", agent.targetActor.namedParameters),
                                           ("critic.", agent.critics.namedParameters), ("target_critic.", agent.targetCritics.namedParameters)])
    }
  }
}
