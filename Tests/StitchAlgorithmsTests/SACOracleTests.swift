import Foundation
import StitchData
import StitchNN
import StitchTensor
import Testing

@testable import StitchAlgorithms

/// Two SAC updates against OfflineRL-Kit's `SACPolicy.learn` in PyTorch (Fixtures/sac_update_oracle.safetensors,
/// made by scripts/fixtures/make_sac_fixture.py; the SAC under Stitch's MBPO and MOPO, with their `Variant`):
/// critics, then the actor against the stepped critics, then α from the actor's sample, then Polyak; α capped at
/// 1 (the first update raises log α above 0, so the second runs at the cap), and its log-density
/// log N(u) − Σ log(1 − tanh²u + 1e-6). The same networks, batches and draws give the same losses and the same
/// parameters after each update. Some of the fixture's actions saturate, where the exact tanh correction differs:
/// with it the actor loss is off by 7e-4 and the second critic loss by 0.24% (checked below).
@Suite struct SACOracleTests {
  @Test func twoUpdatesMatchOfflineRLKitsSAC() throws {
    let t = try Oracle.load("sac_update_oracle.safetensors")
    func tensor(_ name: String) throws -> Tensor { try Oracle.tensor(t, name) }
    var c = SAC.defaultConfiguration
    c.hiddenSizes = [8, 8]
    c.targetUpdateRate = 0.05
    c.actorLearningRate = 1e-3
    c.criticLearningRate = 2e-3
    c.temperatureLearningRate = 3e-3
    var variant = SAC.Variant()
    variant.logStdMin = -5
    variant.maxTemperature = 1
    variant.guardedLogDensity = true
    var agent = SAC(configuration: c, variant: variant, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    let loaded = Oracle.checkpoint(t)
    try loaded.restore(&agent.actor, from: "actor.")
    try loaded.restore(&agent.critics, from: "critic.")
    try loaded.restore(&agent.targetCritics, from: "target_critic.")
    try loaded.restore(&agent.logTemperature, from: "log_alpha")
    for k in 1...2 {
      let batch = try Oracle.batch(t, k, size: 6)
      let m = try agent.update(on: batch, draws: SAC.Draws(next: try tensor("draw\(k).next"), actor: try tensor("draw\(k).actor")))
      // Stitch's critic loss is the sum of the two critics' mean squared errors (each critic's gradient its own).
      let critics = try tensor("out\(k).critic1_loss").scalar + tensor("out\(k).critic2_loss").scalar
      Oracle.close(Tensor([Float(m["critic_loss"]!)]), Tensor([critics]), "update \(k) critic loss")
      for name in ["actor_loss", "alpha_loss", "alpha"] { try Oracle.close(m, name, t, "out\(k).\(name)") }
      try Oracle.compare(t, "after\(k).", [("actor.", agent.actor.namedParameters), ("critic.", agent.critics.namedParameters),
                                           ("target_critic.", agent.targetCritics.namedParameters)])
      Oracle.close(agent.logTemperature, try tensor("after\(k).log_alpha"), "update \(k) log_alpha")
    }
    #expect(try tensor("after1.log_alpha").scalar > 0, "the cap acts in the second update")
    // The exact correction (online SAC's) on the same first update: the saturated actions make the difference.
    variant.guardedLogDensity = false
    var exact = SAC(configuration: c, variant: variant, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    try loaded.restore(&exact.actor, from: "actor.")
    try loaded.restore(&exact.critics, from: "critic.")
    try loaded.restore(&exact.targetCritics, from: "target_critic.")
    try loaded.restore(&exact.logTemperature, from: "log_alpha")
    let m = try exact.update(on: try Oracle.batch(t, 1, size: 6), draws: SAC.Draws(next: try tensor("draw1.next"), actor: try tensor("draw1.actor")))
    #expect(Swift.abs(Float(m["actor_loss"]!) - (try tensor("out1.actor_loss").scalar)) > 1e-3)
  }
}
