import Foundation
import Testing
@testable import StitchAlgorithms

/// Four TD3+BC and three ReBRAC updates (two actor steps each) against PyTorch computing CORL's td3_bc.py and rebrac.py arithmetic
/// (Fixtures/{td3bc,rebrac}_update_oracle.safetensors, made by scripts/fixtures/make_td3_fixtures.py) with the
/// same networks, batches and smoothing-noise draws: the same losses and the same actor, critics and targets after
/// each update, including which update steps the actor (TD3+BC the second, ReBRAC the first).
@Suite struct TD3OracleTests {
  static func load(_ file: String) throws -> [String: Tensor] {
    let url = try #require(Bundle.module.url(forResource: "Fixtures/\(file)", withExtension: nil))
    return try SafeTensors.read(url).0
  }

  static func batch(_ t: [String: Tensor], _ k: Int) throws -> Batch {
    func tensor(_ name: String) throws -> Tensor { try #require(t["batch\(k).\(name)"], "fixture lacks batch\(k).\(name)") }
    var batch = Batch(size: 6, observationDim: 3, actionDim: 2)
    batch.observations = try tensor("observations")
    batch.actions = try tensor("actions")
    batch.rewards = try tensor("rewards").reshaped([6, 1])
    batch.nextObservations = try tensor("next_observations")
    batch.terminals = try tensor("terminals").reshaped([6, 1])
    batch.nextActions = try tensor("next_actions")
    return batch
  }

  /// Compares every parameter of `groups` (name prefix → group) with the fixture's `prefix`-named tensors.
  static func compare(_ t: [String: Tensor], _ prefix: String, _ groups: [(String, [(name: String, value: Tensor)])]) throws {
    for (group, parameters) in groups {
      for (name, p) in parameters {
        let key = prefix + group + name
        CQLOracleTests.close(p, try #require(t[key], "fixture lacks \(key)"), key)
      }
    }
  }

  static func losses(_ t: [String: Tensor], _ k: Int, _ m: Metrics) throws {
    CQLOracleTests.close(Tensor([Float(m["critic_loss"] ?? .nan)]), try #require(t["out\(k).critic_loss"]), "update \(k) critic loss")
    #expect((m["actor_loss"] != nil) == (t["out\(k).actor_loss"] != nil), "update \(k): actor stepped in one and not the other")
    if let expected = t["out\(k).actor_loss"], let actorLoss = m["actor_loss"] {
      CQLOracleTests.close(Tensor([Float(actorLoss)]), expected, "update \(k) actor loss")
    }
  }

  @Test func td3bcMatchesCORLsArithmeticInPyTorch() throws {
    let t = try Self.load("td3bc_update_oracle.safetensors")
    var c = TD3BC.defaultConfiguration
    c.hiddenSizes = [8, 8]
    c.learningRate = 1e-3
    c.targetUpdateRate = 0.05
    var agent = TD3BC(configuration: c, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    var loaded = Checkpoint()
    loaded.tensors = t
    try loaded.restore(&agent.actor, from: "actor.")
    try loaded.restore(&agent.targetActor, from: "target_actor.")
    try loaded.restore(&agent.critics, from: "critic.")
    try loaded.restore(&agent.targetCritics, from: "target_critic.")
    for k in 1...4 {
      let m = try agent.update(on: try Self.batch(t, k), smoothingNoise: try #require(t["draw\(k)"]))
      try Self.losses(t, k, m)
      try Self.compare(t, "after\(k).", [("actor.", agent.actor.namedParameters), ("target_actor.", agent.targetActor.namedParameters),
                                         ("critic.", agent.critics.namedParameters), ("target_critic.", agent.targetCritics.namedParameters)])
    }
  }

  @Test func rebracMatchesCORLsArithmeticInPyTorch() throws {
    let t = try Self.load("rebrac_update_oracle.safetensors")
    var c = ReBRAC.defaultConfiguration
    c.hiddenSizes = [8, 8, 8]
    c.actorPenalty = 0.1
    c.criticPenalty = 0.05
    c.actorLearningRate = 1e-3
    c.criticLearningRate = 2e-3
    c.targetUpdateRate = 0.05
    var agent = ReBRAC(configuration: c, task: TaskSpec(id: "oracle", observationDim: 3, actionDim: 2), rng: RandomStream(seed: 0))
    var loaded = Checkpoint()
    loaded.tensors = t
    try loaded.restore(&agent.actor, from: "actor.")
    try loaded.restore(&agent.targetActor, from: "target_actor.")
    try loaded.restore(&agent.critics, from: "critic.")
    try loaded.restore(&agent.targetCritics, from: "target_critic.")
    for k in 1...3 {
      let m = try agent.update(on: try Self.batch(t, k), smoothingNoise: try #require(t["draw\(k)"]))
      try Self.losses(t, k, m)
      try Self.compare(t, "after\(k).", [("actor.", agent.actor.namedParameters), ("target_actor.", agent.targetActor.namedParameters),
                                         ("critic.", agent.critics.namedParameters), ("target_critic.", agent.targetCritics.namedParameters)])
    }
  }
}
